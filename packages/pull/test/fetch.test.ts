import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createHash, randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { IndexTable, decodeIndexFile, encodeIndexFile, packKey, type IndexedPack } from "@cairn/repository";
import { FolderStorage } from "@cairn/storage";
import { fetchObjects } from "../src/fetch.js";

const root = mkdtempSync(join(tmpdir(), "cairn-fetch-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Two packs in a real folder repository's layout, each object 10 KiB at 12 KiB spacing; the index table over them. */
function repository() {
  const storage = new FolderStorage(root, `file://${root}`);
  const packs: IndexedPack[] = [];
  const contents = new Map<string, Uint8Array>();
  for (let p = 0; p < 2; p++) {
    const bytes = randomBytes(40 * 12 * 1024);
    const id = createHash("sha256").update(bytes).digest("hex");
    const path = join(root, packKey(id));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
    const entries = [];
    for (let i = 0; i < 40; i++) {
      const objectId = randomBytes(32);
      const offset = i * 12 * 1024;
      entries.push({ kind: 1, id: objectId, offset, length: 10 * 1024 });
      contents.set(objectId.toString("hex"), bytes.subarray(offset, offset + 10 * 1024));
    }
    packs.push({ id, size: bytes.length, entries });
  }
  const index = encodeIndexFile(packs);
  const table = IndexTable.build([decodeIndexFile(index.bytes, index.id)]);
  const positionOf = (pack: number, i: number) => {
    const want = Buffer.from(packs[pack].entries[i].id);
    for (let pos = 0; pos < table.size; pos++) if (want.equals(table.idAt(pos))) return pos;
    throw new Error("not in the table");
  };
  const bytesAt = (pos: number) => contents.get(Buffer.from(table.idAt(pos)).toString("hex"))!;
  return { storage, table, positionOf, bytesAt };
}

describe("fetchObjects", () => {
  const { storage, table, positionOf, bytesAt } = repository();
  // Pack 0's objects 0–9 in order (one range), a jump past the gap in pack 0, pack 1, a repeat, back to pack 0.
  const order = [...Array.from({ length: 10 }, (_, i) => positionOf(0, i)), positionOf(0, 39), positionOf(1, 3), positionOf(1, 4), positionOf(1, 3), positionOf(0, 2)];

  it("yields every object's stored bytes in the order asked, however the ranges fall", async () => {
    const got: [number, Buffer][] = [];
    for await (const [pos, bytes] of fetchObjects(storage, table, order, { gap: 4096, maxRange: 64 * 1024, jobs: 2 })) got.push([pos, Buffer.from(bytes)]);
    expect(got.map(([pos]) => pos)).toEqual(order);
    for (const [pos, bytes] of got) expect(Buffer.compare(bytes, bytesAt(pos))).toBe(0);
  });

  it("frees a range's memory once its last object is taken: a view kept past that reads empty, a copy stays whole", async () => {
    const views: Uint8Array[] = [];
    const copies: Buffer[] = [];
    for await (const [, bytes] of fetchObjects(storage, table, order, { gap: 4096, maxRange: 64 * 1024, jobs: 2 })) {
      views.push(bytes);
      copies.push(Buffer.from(bytes));
    }
    // Pack 0's objects 0–4 and 5–9 are two ranges of 58 KiB (64 KiB at most), each left behind
    // before the end. A range of one object (10 KiB) may lie in Node's shared buffer pool, which is
    // never freed: those views stay readable.
    for (let i = 0; i < 10; i++) expect(views[i].byteLength).toBe(0);
    copies.forEach((c, i) => expect(Buffer.compare(c, bytesAt(order[i]))).toBe(0));
  });

  it("takes items whose bytes the producer is still reading until `ahead` bytes wait, and hands them out in order", async () => {
    const positions = Array.from({ length: 8 }, (_, i) => positionOf(1, i));
    const pending: ((bytes: Uint8Array) => void)[] = [];
    let produced = 0;
    async function* producer() {
      for (const pos of positions) {
        produced++;
        yield { pos, bytes: new Promise<Uint8Array>((resolve) => pending.push(resolve)) };
      }
    }
    // 10 KiB objects, 25 KiB ahead: the producer is asked for a third item (30 KiB waiting) and no more.
    const it = fetchObjects(storage, table, producer(), { ahead: 25 * 1024 })[Symbol.asyncIterator]();
    const first = it.next();
    await new Promise((r) => setTimeout(r, 20));
    expect(produced).toBe(3);
    // Bytes that arrive out of order still come out in the producer's order.
    for (let i = pending.length - 1; i >= 0; i--) pending[i](bytesAt(positions[i]));
    const got: number[] = [];
    for (let r = await first; !r.done; r = await it.next()) {
      got.push(r.value[0]);
      expect(Buffer.compare(r.value[1], bytesAt(r.value[0]))).toBe(0);
      for (let i = 0; i < pending.length; i++) pending[i](bytesAt(positions[i]));
    }
    expect(got).toEqual(positions);
  });

  it("an item whose read fails fails the fetch at its turn, after the ones before it", async () => {
    async function* producer() {
      yield { pos: positionOf(0, 0), bytes: bytesAt(positionOf(0, 0)) };
      yield { pos: positionOf(0, 1), bytes: Promise.reject(new Error("the store went away")) };
    }
    const got: number[] = [];
    await expect(
      (async () => {
        for await (const [pos] of fetchObjects(storage, table, producer())) got.push(pos);
      })(),
    ).rejects.toThrow("the store went away");
    expect(got).toEqual([positionOf(0, 0)]);
  });

  it("reads a pack named by wholePack in one GET and checks it against its name; a damaged one gives none of its objects", async () => {
    const wanted = [positionOf(0, 3), positionOf(0, 30), positionOf(1, 5)];
    const pack0 = table.packs[wanted[0]];
    const gets: { length: number }[] = [];
    const spy = Object.create(storage) as typeof storage;
    spy.get = async (key, range) => {
      gets.push({ length: range!.length });
      return storage.get(key, range);
    };
    const got: number[] = [];
    for await (const [pos, bytes] of fetchObjects(spy, table, wanted, { wholePack: (p) => p === pack0 })) {
      got.push(pos);
      expect(Buffer.compare(bytes, bytesAt(pos))).toBe(0);
    }
    expect(got).toEqual(wanted);
    expect(gets.map((g) => g.length)).toEqual([table.packSizes[pack0], 10 * 1024]);

    // The same pack with one byte changed (in a gap no object covers: only the whole-pack check can see it).
    const lying = Object.create(storage) as typeof storage;
    lying.get = async (key, range) => {
      const bytes = Buffer.from(await storage.get(key, range));
      if (range!.length === table.packSizes[pack0]) bytes[11 * 1024] ^= 1;
      return bytes;
    };
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const [pos] of fetchObjects(lying, table, wanted, { wholePack: (p) => p === pack0 })) seen.push(pos);
      })(),
    ).rejects.toThrow(`pack ${table.packIdAt(pack0)} is damaged: its bytes do not hash to its name`);
    expect(seen).toEqual([]);
  });

  it("counts a given item by its weight (the reads its producer started for it), not by its length", async () => {
    const positions = Array.from({ length: 8 }, (_, i) => positionOf(1, i));
    let produced = 0;
    async function* producer() {
      for (const [i, pos] of positions.entries()) {
        produced++;
        // The first of every four started a 36 MiB span; the others lie in it.
        yield { pos, bytes: bytesAt(pos), weight: i % 4 === 0 ? 36 * 1024 * 1024 : 0 };
      }
    }
    const it = fetchObjects(storage, table, producer(), { ahead: 40 * 1024 * 1024 })[Symbol.asyncIterator]();
    await it.next();
    // 36 MiB waiting after the first; the fifth starts a second span (72 MiB > 40): no sixth yet.
    expect(produced).toBe(5);
  });
});
