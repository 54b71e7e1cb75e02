// Which copy readers take of an object listed more than once (docs/repository.md, "Copies planted
// next to real objects"), and what that costs: a LIST of packs/ only when there are copies.
import { mkdirSync, mkdtempSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openStorage, type Storage } from "@cairn/storage";
import { LocalCache, PackBuilder, countingStorage, encodeIndexFile, indexKey, loadIndex, packKey } from "../src/index.js";

const tmp = mkdtempSync(join(tmpdir(), "cairn-load-index-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const id = (label: string) => new Uint8Array(Buffer.from(label.padEnd(32, ".")));

interface Stored {
  pack: string;
  index: string;
}

/** A folder store, and a way to add a pack (with its index file) that holds `shared` with bytes of its own, dated `at` (seconds). */
async function store(name: string) {
  const dir = join(tmp, name);
  mkdirSync(dir);
  const storage = await openStorage(`file://${dir}`);
  let n = 0;
  const add = async (at: number): Promise<Stored> => {
    const b = new PackBuilder();
    b.add(1, id("shared"), Uint8Array.of(++n));
    b.add(1, id(`own ${n}`), Uint8Array.of(n));
    const pack = b.finish();
    await storage.put(packKey(pack.id), pack.bytes);
    const index = encodeIndexFile([{ id: pack.id, size: pack.bytes.length, entries: pack.entries }]);
    await storage.put(indexKey(index.id), index.bytes);
    date(pack.id, at);
    return { pack: pack.id, index: index.id };
  };
  const date = (pack: string, at: number) => utimesSync(join(dir, packKey(pack)), at, at);
  return { storage, add, date };
}

async function load(storage: Storage, oldestCopy: boolean) {
  const counted = countingStorage(storage);
  const { table } = await loadIndex(counted.storage, new LocalCache(undefined), { oldestCopy });
  return { table, requests: counted.counts.requests };
}

const holder = (table: Awaited<ReturnType<typeof load>>["table"]) => table.packIdAt(table.packs[table.find(id("shared"))]);

describe("the index readers load", () => {
  it("takes the copy in the oldest pack by the store's time, not the first listed nor the lowest pack id", async () => {
    const { storage, add, date } = await store("by-time");
    // Packs until one has an index file that sorts after another's and an id after another's: it is made the oldest.
    const all: Stored[] = [];
    let oldest: Stored | undefined;
    while (!oldest) {
      all.push(await add(2000));
      oldest = all.find((o) => all.some((s) => s.index < o.index) && all.some((s) => s.pack < o.pack));
    }
    date(oldest.pack, 1000);
    const { table } = await load(storage, true);
    expect(holder(table)).toBe(oldest.pack);
    for (let i = 1; i <= all.length; i++) expect(table.has(id(`own ${i}`))).toBe(true);
    expect(table.size).toBe(all.length + 1);
  });

  it("breaks a tie in time by the lower pack id, and takes a copy whose pack is gone only when no other is there", async () => {
    const { storage, add } = await store("tie");
    // Two packs of the same time, the one with the lower id listed last; and an older one, gone.
    const first = await add(5000);
    const same = [first];
    let second: Stored;
    do same.push((second = await add(5000)));
    while (!(second.index > first.index && second.pack < first.pack) && !(first.index > second.index && first.pack < second.pack));
    // Every pack added here has the same time: the lowest id of them all wins.
    const lower = same.reduce((a, b) => (a.pack < b.pack ? a : b));
    const gone = await add(1000);
    await storage.delete(packKey(gone.pack));
    expect(holder((await load(storage, true)).table)).toBe(lower.pack);
    const alone = await store("gone");
    const only = await alone.add(1000);
    await alone.storage.delete(packKey(only.pack));
    // Still listed, in a pack the store lacks: readers say so when they fetch it.
    expect(holder((await load(alone.storage, true)).table)).toBe(only.pack);
  });

  it("lists packs/ once more only when some object has copies", async () => {
    const single = await store("single");
    await single.add(1000);
    expect((await load(single.storage, true)).requests).toBe((await load(single.storage, false)).requests);
    const copies = await store("copies");
    await copies.add(1000);
    await copies.add(2000);
    expect((await load(copies.storage, true)).requests).toBe((await load(copies.storage, false)).requests + 1);
  });
});
