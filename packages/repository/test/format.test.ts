import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  IdSet,
  IndexTable,
  PackBuilder,
  decodeIndexFile,
  decodeKnown,
  encodeIndexFile,
  encodeKnown,
  encodeTrailer,
  intersectIds,
  parseTrailer,
  selectSnapshot,
  toHex,
} from "../src/index.js";

const id = (label: string) => new Uint8Array(createHash("sha256").update(label).digest());
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

function samplePack() {
  const b = new PackBuilder();
  b.add(2, id("manifest"), new TextEncoder().encode("manifest chunk bytes"));
  b.add(1, id("a"), new TextEncoder().encode("chunk a"));
  b.add(1, id("b"), new TextEncoder().encode("chunk b, longer"));
  return b.finish();
}

describe("packs", () => {
  it("end in a trailer that lists every object and fills the pack exactly", () => {
    const p = samplePack();
    const entries = parseTrailer(p.bytes, p.bytes.length, p.id);
    expect(entries.map((e) => [e.kind, toHex(e.id), e.offset, e.length])).toEqual([
      [2, toHex(id("manifest")), 0, 20],
      [1, toHex(id("a")), 20, 7],
      [1, toHex(id("b")), 27, 15],
    ]);
    expect(new TextDecoder().decode(p.bytes.subarray(27, 42))).toBe("chunk b, longer");
    expect(p.id).toBe(sha(p.bytes));
  });

  it("match the test vector in docs/repository.md", () => {
    const p = samplePack();
    expect(p.bytes.length).toBe(42 + 12 + 3 * 41 + 4);
    expect(p.id).toBe(VECTORS.pack);
  });

  it("refuse a trailer whose length or offsets do not add up", () => {
    const p = samplePack();
    const bad = p.bytes.slice();
    bad[bad.length - 1] ^= 1;
    expect(() => parseTrailer(bad, bad.length, "x")).toThrow(/trailer/);
    const gap = encodeTrailer([{ kind: 1, id: id("a"), offset: 5, length: 7 }]);
    const bytes = new Uint8Array(12 + gap.length);
    bytes.set(gap, 12);
    expect(() => parseTrailer(bytes, bytes.length, "x")).toThrow(/offset 5, expected 0/);
    const notPack = new Uint8Array(200);
    expect(() => parseTrailer(notPack, 200, "x")).toThrow(/damaged trailer length|no trailer magic/);
  });

  it("tells a later format (the magic's last byte) from damage: version, exit 11, for packs and index files", () => {
    const p = samplePack();
    const later = p.bytes.slice();
    const trailerAt = later.length - 4 - new DataView(later.buffer).getUint32(later.length - 4);
    later[trailerAt + 7] = 2;
    expect(() => parseTrailer(later, later.length, "x")).toThrow(expect.objectContaining({ kind: "version", message: "pack x has trailer format 2; this build reads 1 (a newer cairn wrote it: use that)" }));
    const f = encodeIndexFile([{ id: p.id, size: p.bytes.length, entries: p.entries }]);
    const newer = f.bytes.slice();
    newer[7] = 2;
    expect(() => decodeIndexFile(newer, sha(newer))).toThrow(expect.objectContaining({ kind: "version", message: `index file ${sha(newer)} has format 2; this build reads 1 (a newer cairn wrote it: use that)` }));
  });
});

describe("index files", () => {
  it("round-trip, sorted by id, and are named by their SHA-256", () => {
    const p = samplePack();
    const f = encodeIndexFile([{ id: p.id, size: p.bytes.length, entries: p.entries }]);
    expect(f.id).toBe(sha(f.bytes));
    expect(f.id).toBe(VECTORS.index);
    const d = decodeIndexFile(f.bytes, f.id);
    expect(d.kinds.length).toBe(3);
    expect(toHex(d.packIds)).toBe(p.id);
    const t = IndexTable.build([d]);
    for (const e of p.entries) {
      const pos = t.find(e.id);
      expect(pos).toBeGreaterThanOrEqual(0);
      expect([t.kinds[pos], t.offsets[pos], t.lengths[pos], t.packIdAt(t.packs[pos])]).toEqual([e.kind, e.offset, e.length, p.id]);
    }
    expect(t.find(id("absent"))).toBe(-1);
  });

  it("are refused when a byte is changed", () => {
    const p = samplePack();
    const f = encodeIndexFile([{ id: p.id, size: p.bytes.length, entries: p.entries }]);
    const bad = f.bytes.slice();
    bad[20] ^= 1;
    expect(() => decodeIndexFile(bad, f.id)).toThrow(/do not hash to its name/);
    const short = f.bytes.subarray(0, f.bytes.length - 3);
    expect(() => decodeIndexFile(short, sha(short))).toThrow(/declares 3 objects/);
  });
});

describe("the in-memory index", () => {
  it("merges files, lists an object held twice once, and leaves out marked packs", () => {
    const one = new PackBuilder();
    one.add(1, id("x"), Uint8Array.of(1));
    one.add(1, id("y"), Uint8Array.of(2));
    const p1 = one.finish();
    one.add(1, id("y"), Uint8Array.of(2));
    one.add(1, id("z"), Uint8Array.of(3));
    const p2 = one.finish();
    const f1 = encodeIndexFile([{ id: p1.id, size: p1.bytes.length, entries: p1.entries }]);
    const f2 = encodeIndexFile([{ id: p2.id, size: p2.bytes.length, entries: p2.entries }]);
    const files = [decodeIndexFile(f1.bytes, f1.id), decodeIndexFile(f2.bytes, f2.id)];
    const all = IndexTable.build(files);
    expect(all.size).toBe(3);
    expect(all.packCount).toBe(2);
    const withoutP1 = IndexTable.build(files, new Set([p1.id]));
    expect(withoutP1.has(id("x"))).toBe(false);
    expect(withoutP1.has(id("y"))).toBe(true);
    expect(withoutP1.packIdAt(withoutP1.packs[withoutP1.find(id("y"))])).toBe(p2.id);
    expect(withoutP1.findPack(p1.id)).toBe(-1);
  });

  it("finds every one of many ids (sorted typed arrays, binary search)", () => {
    const b = new PackBuilder();
    for (let i = 0; i < 5000; i++) b.add(1, id(`n${i}`), Uint8Array.of(i & 255));
    const p = b.finish();
    const f = encodeIndexFile([{ id: p.id, size: p.bytes.length, entries: p.entries }]);
    const t = IndexTable.build([decodeIndexFile(f.bytes, f.id)]);
    for (let i = 0; i < 5000; i++) expect(t.offsets[t.find(id(`n${i}`))]).toBe(i);
  });
});

describe("id sets", () => {
  it("grow and answer membership", () => {
    const s = new IdSet(4);
    for (let i = 0; i < 3000; i++) expect(s.add(id(`k${i}`))).toBe(true);
    expect(s.add(id("k7"))).toBe(false);
    expect(s.size).toBe(3000);
    for (let i = 0; i < 3000; i++) expect(s.has(id(`k${i}`))).toBe(true);
    expect(s.has(id("other"))).toBe(false);
  });
});

describe("known files", () => {
  it("round-trip sorted ids, intersect, and refuse damage", () => {
    const ids = [id("1"), id("2"), id("3")].sort(Buffer.compare);
    const all = new Uint8Array(Buffer.concat(ids));
    const bytes = encodeKnown(all);
    expect(sha(bytes)).toBe(VECTORS.known);
    expect(decodeKnown(bytes)).toEqual(all);
    expect(intersectIds(all, new Uint8Array(Buffer.concat([ids[0], ids[2]])))).toEqual(new Uint8Array(Buffer.concat([ids[0], ids[2]])));
    expect(() => decodeKnown(bytes.subarray(0, bytes.length - 1))).toThrow(/header counts 3 ids/);
    expect(() => decodeKnown(new Uint8Array(20))).toThrow(/bad magic/);
  });
});

describe("docs/repository.md", () => {
  it("prints the same vector bytes as the code produces", () => {
    const doc = readFileSync(new URL("../../../docs/repository.md", import.meta.url), "utf8");
    const block = (title: string) => {
      const at = doc.indexOf(title, doc.indexOf("## Test vectors"));
      const m = /```\n([0-9a-f\n]+)```/.exec(doc.slice(at));
      return m![1].replace(/\n/g, "");
    };
    const p = samplePack();
    expect(block("**Pack**")).toBe(Buffer.from(p.bytes).toString("hex"));
    expect(block("**Index file**")).toBe(Buffer.from(encodeIndexFile([{ id: p.id, size: p.bytes.length, entries: p.entries }]).bytes).toString("hex"));
    const ids = new Uint8Array(Buffer.concat([id("1"), id("2"), id("3")].sort(Buffer.compare)));
    expect(block("**Known-ids file**")).toBe(Buffer.from(encodeKnown(ids)).toString("hex"));
    for (const v of Object.values(VECTORS)) expect(doc).toContain(v);
  });
});

// The vectors printed in docs/repository.md ("Test vectors").
const VECTORS = {
  pack: "85dab1078b68621e83049ba3e92bab56f51c6ecbb602e941e05a78c0d3605329",
  index: "93cf7487f1ae8c4fa436a536ccd12961080d75ad6cd5b393aaa3b64fd2d79e8a",
  known: "b004384ec7b4d1a0ba7f39706cb5ab25ee8e2057826d386e545f5317a56d7ba3",
};

describe("selecting a snapshot", () => {
  const snap = (id: string, time: string, host = "h", tags: string[] = []) => ({ id, time: new Date(time), host, label: "l", tags, commit: { time }, writer: "", keyset: "", manifest: "", refs: "" });
  const all = [snap("aaaa1111", "2026-11-20T10:00:00Z"), snap("aaaa2222", "2026-11-24T23:00:00Z", "db", ["weekly"]), snap("bbbb3333", "2026-11-25T01:00:00Z")];

  it("takes an id prefix, latest, or the newest at or before a date", () => {
    expect(selectSnapshot(all, "bbbb").id).toBe("bbbb3333");
    expect(selectSnapshot(all, "latest").id).toBe("bbbb3333");
    expect(selectSnapshot(all, "2026-11-24").id).toBe("aaaa2222");
    expect(selectSnapshot(all, "2026-11-24T12:00").id).toBe("aaaa1111");
    expect(selectSnapshot(all, "latest", { host: "h" }).id).toBe("bbbb3333");
    expect(selectSnapshot(all, "latest", { tags: ["weekly"] }).id).toBe("aaaa2222");
  });

  it("refuses an ambiguous prefix, a date before every snapshot, and nonsense", () => {
    expect(() => selectSnapshot(all, "aaaa")).toThrow(/ambiguous: 2 snapshots/);
    expect(() => selectSnapshot(all, "2026-01-01")).toThrow(/no snapshot at or before 2026-01-01/);
    expect(() => selectSnapshot(all, "latest", { host: "nobody" })).toThrow(/no snapshot with host nobody/);
    expect(() => selectSnapshot(all, "yesterday")).toThrow(/cannot read "yesterday" as a snapshot/);
  });
});
