// Which copy of an object is the real one (packages/prune/src/copies.ts, docs/prune.md "Copies of
// one object"), on index tables built from index files, with pack dates as the store would list.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { IndexTable, ObjectKind, decodeIndexFile, encodeIndexFile, packTimes, type Listed } from "@cairn/repository";
import { anchorsToKeep, sharedLive, type Compared } from "../src/copies.js";

const id = (s: string) => createHash("sha256").update(s).digest();
const hex = (s: string) => id(s).toString("hex");
const X = id("x");

/** Packs by name: the objects each holds and its date (minutes); `marked` leave the unmarked table. */
function store(packs: Record<string, { objects: string[]; at: number }>, marked: string[]) {
  const files = Object.entries(packs).map(([name, p]) => {
    const f = encodeIndexFile([{ id: hex(name), size: 1000, entries: p.objects.map((o, k) => ({ kind: ObjectKind.data, id: id(o), offset: k * 100, length: 100 })) }]);
    return decodeIndexFile(f.bytes, f.id);
  });
  const marks = new Set(marked.map(hex));
  const all = new Set(Object.keys(packs).map(hex));
  const unmarked = IndexTable.build(files, marks, { copies: true });
  const markedTable = IndexTable.build(files, new Set([...all].filter((p) => !marks.has(p))), { copies: true });
  const stored = new Map<string, Listed>(Object.entries(packs).map(([name, p]) => [hex(name), { size: 1000, mtime: new Date(p.at * 60_000) }]));
  return { unmarked, markedTable, stored, packTime: packTimes(unmarked, stored) };
}

/** The unmarked positions of X in the named packs. */
function positions(t: IndexTable, names: string[]): number[] {
  const out: number[] = [];
  t.forEachCopy(t.find(X), (j) => {
    if (names.map(hex).includes(t.packIdAt(t.packs[j]))) out.push(j);
  });
  return out;
}

/** X's position in a marked pack. */
function markedAt(t: IndexTable, name: string): number {
  let at = -1;
  t.forEachCopy(t.find(X), (j) => {
    if (t.packIdAt(t.packs[j]) === hex(name)) at = j;
  });
  return at;
}

describe("anchorsToKeep: a marked pack with the oldest copy goes only if the oldest copy left has its bytes", () => {
  it("a repack's source goes when its copy is the oldest left", () => {
    const s = store({ S: { objects: ["x"], at: 0 }, R: { objects: ["x"], at: 60 } }, ["S"]);
    const compared = new Map<string, Compared[]>([[hex("S"), [{ i: markedAt(s.markedTable, "S"), same: positions(s.unmarked, ["R"]) }]]]);
    expect(anchorsToKeep(new Set([hex("S")]), compared, s.unmarked, s.markedTable, s.packTime, s.stored)).toEqual(new Set());
  });

  it("is kept while a copy with other bytes came between it and its repack's copy", () => {
    const s = store({ S: { objects: ["x"], at: 0 }, P: { objects: ["x"], at: 30 }, R: { objects: ["x"], at: 60 } }, ["S"]);
    const compared = new Map<string, Compared[]>([[hex("S"), [{ i: markedAt(s.markedTable, "S"), same: positions(s.unmarked, ["R"]) }]]]);
    expect(anchorsToKeep(new Set([hex("S")]), compared, s.unmarked, s.markedTable, s.packTime, s.stored)).toEqual(new Set([hex("S")]));
  });

  it("also when that copy's pack is marked but not deleted in this run", () => {
    const s = store({ S: { objects: ["x"], at: 0 }, P: { objects: ["x"], at: 30 }, R: { objects: ["x"], at: 60 } }, ["S", "P"]);
    const compared = new Map<string, Compared[]>([[hex("S"), [{ i: markedAt(s.markedTable, "S"), same: positions(s.unmarked, ["R"]) }]]]);
    expect(anchorsToKeep(new Set([hex("S")]), compared, s.unmarked, s.markedTable, s.packTime, s.stored)).toEqual(new Set([hex("S")]));
  });

  it("of two marked copies with the same bytes before a planted one, the older stays and the later goes", () => {
    const s = store({ S: { objects: ["x"], at: 0 }, S2: { objects: ["x"], at: 10 }, P: { objects: ["x"], at: 30 }, R: { objects: ["x"], at: 60 } }, ["S", "S2"]);
    const same = positions(s.unmarked, ["R"]);
    const compared = new Map<string, Compared[]>([
      [hex("S"), [{ i: markedAt(s.markedTable, "S"), same }]],
      [hex("S2"), [{ i: markedAt(s.markedTable, "S2"), same }]],
    ]);
    expect(anchorsToKeep(new Set([hex("S"), hex("S2")]), compared, s.unmarked, s.markedTable, s.packTime, s.stored)).toEqual(new Set([hex("S")]));
  });

  it("a marked pack with a later copy goes (an older one is left)", () => {
    const s = store({ O: { objects: ["x"], at: 0 }, M: { objects: ["x"], at: 30 } }, ["M"]);
    const compared = new Map<string, Compared[]>([[hex("M"), []]]);
    expect(anchorsToKeep(new Set([hex("M")]), compared, s.unmarked, s.markedTable, s.packTime, s.stored)).toEqual(new Set());
  });
});

describe("sharedLive: a pack whose live objects other packs hold waits; the unmarked holders go first", () => {
  it("names the pack and the unmarked packs with other copies", () => {
    const s = store({ S: { objects: ["x", "g"], at: 0 }, T: { objects: ["x", "y"], at: 30 }, U: { objects: ["z"], at: 40 } }, []);
    const live = new Uint8Array(s.unmarked.size);
    for (const o of ["x", "y", "z"]) {
      let oldest = s.unmarked.find(id(o));
      s.unmarked.forEachCopy(oldest, (j) => {
        if (s.unmarked.olderCopy(j, oldest, s.packTime)) oldest = j;
      });
      live[oldest] = 1;
    }
    const S = s.unmarked.findPack(hex("S"));
    const U = s.unmarked.findPack(hex("U"));
    const r = sharedLive(s.unmarked, s.markedTable, live, new Set([S, U]), s.stored);
    expect(r.blocked).toEqual(new Set([S]));
    expect(r.holders).toEqual(new Set([s.unmarked.findPack(hex("T"))]));
  });

  it("a copy in a marked pack the store still holds blocks too; one in a deleted pack does not", () => {
    const s = store({ S: { objects: ["x", "g"], at: 0 }, M: { objects: ["x"], at: 30 } }, ["M"]);
    const live = new Uint8Array(s.unmarked.size);
    live[s.unmarked.find(X)] = 1;
    const S = s.unmarked.findPack(hex("S"));
    expect(sharedLive(s.unmarked, s.markedTable, live, new Set([S]), s.stored)).toEqual({ blocked: new Set([S]), holders: new Set() });
    s.stored.delete(hex("M"));
    expect(sharedLive(s.unmarked, s.markedTable, live, new Set([S]), s.stored).blocked).toEqual(new Set());
  });
});
