// PackSpans reads a span as parallel ranged GETs (one large file is fetched over more than one
// connection) and still hands every object its exact bytes, also one that straddles two parts.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createHash, randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { IndexTable, decodeIndexFile, encodeIndexFile, packKey, type IndexedPack } from "@cairn/repository";
import { FolderStorage, type Storage } from "@cairn/storage";
import { PackSpans } from "../src/spans.js";

const MiB = 1024 * 1024;
const root = mkdtempSync(join(tmpdir(), "cairn-spans-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/**
 * One 30 MiB pack of objects of 700 KiB to 1.3 MiB back to back (so some cross the middle), the
 * first one `firstLength` bytes when given; `claimExtra`: an object the index claims past the end;
 * `trailer`: the pack ends in a trailer's worth of bytes (16 + 41 per object, docs/repository.md,
 * "Packs"), as a real one does.
 */
function pack(claimExtra = 0, firstLength?: number, trailer = false) {
  const objects = randomBytes(30 * MiB);
  const entries = [];
  for (let offset = 0, i = 0; offset < objects.length; i++) {
    const length = i === 0 && firstLength ? firstLength : Math.min(objects.length - offset, 700 * 1024 + ((i * 97_531) % (600 * 1024)));
    entries.push({ kind: 1, id: randomBytes(32), offset, length });
    offset += length;
  }
  const stored = trailer ? Buffer.concat([objects, randomBytes(16 + 41 * entries.length)]) : objects;
  const id = createHash("sha256").update(stored).digest("hex");
  const path = join(root, packKey(id));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, stored);
  if (claimExtra) entries.push({ kind: 1, id: randomBytes(32), offset: stored.length, length: claimExtra });
  const packs: IndexedPack[] = [{ id, size: stored.length + claimExtra, entries }];
  const index = encodeIndexFile(packs);
  const table = IndexTable.build([decodeIndexFile(index.bytes, index.id)]);
  const byOffset = [...Array(table.size).keys()].sort((a, b) => table.offsets[a] - table.offsets[b]);
  return { bytes: objects, table, positions: byOffset };
}

/** The folder store, counting GETs in flight at once. */
function counting(): { storage: Storage; most: () => number } {
  const inner = new FolderStorage(root, `file://${root}`);
  let now = 0;
  let most = 0;
  const storage = Object.create(inner) as Storage;
  storage.get = async (key, range) => {
    most = Math.max(most, ++now);
    try {
      await new Promise((r) => setTimeout(r, 20)); // a round trip: lets the parts overlap
      return await inner.get(key, range);
    } finally {
      now--;
    }
  };
  return { storage, most: () => most };
}

describe("PackSpans", () => {
  it("reads a span as two GETs at once and gives every object its bytes, across the parts' boundary too", async () => {
    const { bytes, table, positions } = pack();
    const { storage, most } = counting();
    const spans = new PackSpans(storage, table, 36 * MiB, 3 * 36 * MiB);
    const first = await spans.read(positions[0]);
    expect(Buffer.compare(first, bytes.subarray(0, table.lengths[positions[0]]))).toBe(0);
    expect(most()).toBe(2);
    let straddling = 0;
    for (const pos of positions) {
      const got = await spans.held(pos);
      const at = table.offsets[pos];
      expect(got && Buffer.compare(got, bytes.subarray(at, at + table.lengths[pos]))).toBe(0);
      if (at < 15 * MiB && at + table.lengths[pos] > 15 * MiB) straddling++;
    }
    expect(straddling).toBe(1); // the case the join is for
  });

  it("a span that starts with an object larger than half of it (a 16 MiB chunk: chunk --max 16M) still reads", async () => {
    const { bytes, table, positions } = pack(0, 16 * MiB);
    const spans = new PackSpans(counting().storage, table, 36 * MiB, 3 * 36 * MiB);
    expect(Buffer.compare(await spans.read(positions[0]), bytes.subarray(0, 16 * MiB))).toBe(0);
    for (const pos of positions) {
      const at = table.offsets[pos];
      expect(Buffer.compare((await spans.held(pos))!, bytes.subarray(at, at + table.lengths[pos]))).toBe(0);
    }
  });

  it("a pack shorter than the index says: the objects that exist come whole, the missing one is not made up", async () => {
    const { bytes, table, positions } = pack(MiB);
    const { storage } = counting();
    const spans = new PackSpans(storage, table, 36 * MiB, 3 * 36 * MiB);
    await spans.read(positions[0]);
    const last = positions[positions.length - 1];
    expect(table.offsets[last]).toBe(bytes.length);
    expect(await spans.held(last)).toBeUndefined();
    const before = positions[positions.length - 2];
    const at = table.offsets[before];
    expect(Buffer.compare((await spans.held(before))!, bytes.subarray(at, at + table.lengths[before]))).toBe(0);
  });

  it("reads from the pack's start up to its trailer for an object in the middle, and counts the bytes in flight", async () => {
    const { bytes, table, positions } = pack(0, undefined, true);
    const { storage, most } = counting();
    const spans = new PackSpans(storage, table, 36 * MiB, 3 * 36 * MiB);
    const middle = positions[10];
    expect(spans.touched(middle)).toBe(false);
    expect(spans.dataEnd(middle)).toBe(bytes.length);
    expect(spans.lastInPack(positions[positions.length - 1])).toBe(true);
    expect(spans.lastInPack(middle)).toBe(false);
    const reading = spans.read(middle, true);
    expect(spans.loadingBytes).toBe(bytes.length); // the objects, not the trailer
    const at = table.offsets[middle];
    expect(Buffer.compare(await reading, bytes.subarray(at, at + table.lengths[middle]))).toBe(0);
    expect(spans.loadingBytes).toBe(0);
    expect(spans.touched(middle)).toBe(true);
    expect(most()).toBe(2);
    // Everything in front of it came with it.
    for (const pos of positions) expect(spans.covers(pos)).toBe(true);
    expect(Buffer.compare((await spans.held(positions[0]))!, bytes.subarray(0, table.lengths[positions[0]]))).toBe(0);
  });

  it("over its budget drops the span used longest ago, and a pack read ahead only once restore order has reached it", async () => {
    const { table, positions } = pack(0, undefined, true);
    const spans = new PackSpans(counting().storage, table, 4 * MiB, 12 * MiB);
    const at = (mib: number) => positions.find((pos) => table.offsets[pos] >= mib * MiB)!;
    await spans.read(positions[0], true); // read ahead from the pack's start: 0–4 MiB
    await spans.read(at(5)); // 5–9 MiB
    await spans.read(at(10)); // 10–14 MiB
    expect(spans.covers(at(6))).toBe(true); // used now: 5–9 is the newest use
    await spans.read(at(15)); // over 12 MiB: 10–14 goes (used longest ago), not the pack read ahead
    expect([spans.covers(at(11)), spans.covers(positions[0]), spans.covers(at(6)), spans.covers(at(16))]).toEqual([false, true, true, true]);
    // Reached (and so used) once, the span read ahead is dropped like any other.
    await spans.read(at(20));
    await spans.read(at(25));
    expect(spans.covers(positions[0])).toBe(false);
  });
});
