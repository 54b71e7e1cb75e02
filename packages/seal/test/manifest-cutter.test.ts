import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { HELD_CAP, ID_CUT_BELOW, ManifestCutter } from "../src/manifest-cutter.js";
import { ManifestParser, RecordTag, chunkRecord, jsonRecord } from "../src/manifest.js";

const secret = Buffer.alloc(32, 7);
const idKey = Buffer.alloc(32, 9);
const idOf = (n: number) => createHmac("sha256", idKey).update(`chunk ${n}`).digest();

/** Records of a tree: files of a few chunks each, named from `from`. */
function records(from: number, count: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let f = from; f < from + count; f++) {
    out.push(jsonRecord(RecordTag.ENTRY, { kind: "file", path: `tree/file-${f}`, mode: 420, mtime: "1700000000000000000" }));
    for (let c = 0; c < 3; c++) out.push(chunkRecord(idOf(f * 10 + c), 1 << 20));
    out.push(jsonRecord(RecordTag.ENTRY_END, { size: 3 << 20, sha256: "ab".repeat(32) }));
  }
  return out;
}

function cut(all: Uint8Array[]): Buffer[] {
  const cutter = new ManifestCutter(secret);
  const chunks: Buffer[] = [];
  for (const r of all) {
    const c = cutter.append(r);
    if (c) chunks.push(Buffer.from(c));
  }
  const last = cutter.finish();
  if (last) chunks.push(Buffer.from(last));
  return chunks;
}

describe("manifest cuts", () => {
  it("fall between records: the chunks concatenate to the manifest", () => {
    const all = records(0, 200);
    const chunks = cut(all);
    expect(chunks.length).toBeGreaterThan(5);
    expect(Buffer.compare(Buffer.concat(chunks), Buffer.concat(all))).toBe(0);
    for (const c of chunks) expect([RecordTag.ENTRY, RecordTag.CHUNK, RecordTag.ENTRY_END]).toContain(c[0]);
  });

  it("follow every chunk record whose id begins with a byte below 8", () => {
    const chunks = cut(records(0, 200));
    for (const c of chunks.slice(0, -1)) {
      const parser = new ManifestParser();
      parser.push(jsonRecord(RecordTag.HEADER, { v: 1 }));
      const recs = parser.push(c);
      const inner = recs.slice(0, -1).filter((r) => r.tag === RecordTag.CHUNK && r.id[0] < ID_CUT_BELOW);
      expect(inner).toEqual([]);
    }
  });

  it("give identical manifest chunks for an unchanged stretch after a change before it", () => {
    const a = cut([jsonRecord(RecordTag.HEADER, { v: 1, time: "a" }), ...records(0, 300)]);
    const b = cut([jsonRecord(RecordTag.HEADER, { v: 1, time: "b, later" }), ...records(0, 5), ...records(1000, 2), ...records(5, 295)]);
    const inA = new Set(a.map((c) => c.toString("hex")));
    const shared = b.filter((c) => inA.has(c.toString("hex"))).length;
    expect(shared).toBeGreaterThanOrEqual(b.length - 4);
  });

  it("cut when the chunks described reach the held-bytes cap, even without an id cut", () => {
    const cutter = new ManifestCutter(secret);
    let n = 0;
    let out: Uint8Array | undefined;
    let described = 0;
    while (!out) {
      let id: Buffer;
      do id = randomBytes(32);
      while (id[0] < ID_CUT_BELOW);
      out = cutter.append(chunkRecord(id, 4 << 20));
      described += 4 << 20;
      n++;
    }
    expect(described).toBeLessThanOrEqual(HELD_CAP);
    expect(n).toBeLessThanOrEqual(HELD_CAP / (4 << 20));
  });
});
