import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { IdList, REFS_BLOCK_MAX, isSortedIds, refsBlocks } from "../src/refs.js";

describe("IdList.sortedUnique", () => {
  it("sorts by bytes and drops duplicates, as a naive sort would", () => {
    const ids = Array.from({ length: 3000 }, () => randomBytes(32));
    // Duplicates, and ids that share their first four bytes.
    for (let i = 0; i < 300; i++) ids.push(ids[i]);
    for (let i = 0; i < 50; i++) ids.push(Buffer.concat([ids[i].subarray(0, 4), randomBytes(28)]));
    const list = new IdList();
    for (const id of ids) list.add(id);
    const naive = [...new Set(ids.map((b) => b.toString("hex")))].sort();
    expect(Buffer.from(list.sortedUnique()).toString("hex")).toBe(naive.join(""));
  });
});

describe("refs blocks", () => {
  it("cover the sorted set in order, ending after ids whose last two bytes are below 64", () => {
    const list = new IdList();
    for (let i = 0; i < 20000; i++) list.add(randomBytes(32));
    const sorted = list.sortedUnique();
    const blocks = refsBlocks(sorted);
    expect(Buffer.compare(Buffer.concat(blocks), sorted)).toBe(0);
    for (const b of blocks.slice(0, -1)) {
      expect(isSortedIds(b)).toBe(true);
      const lastTwo = (b[b.length - 2] << 8) | b[b.length - 1];
      expect(lastTwo < 64 || b.length / 32 === REFS_BLOCK_MAX).toBe(true);
      for (let o = 0; o < b.length - 32; o += 32) expect((b[o + 30] << 8) | b[o + 31]).toBeGreaterThanOrEqual(64);
    }
  });

  it("change only the block that gains an id, when that block ends on a cut point", () => {
    const list = new IdList();
    const ids = Array.from({ length: 20000 }, () => randomBytes(32));
    for (const id of ids) list.add(id);
    const blocksBefore = refsBlocks(list.sortedUnique());
    const before = new Set(blocksBefore.map((b) => createHash("sha256").update(b).digest("hex")));
    // An id just after the first id of a block that holds fewer than the maximum: it sorts
    // into that block and is no cut point itself.
    const target = blocksBefore.find((b) => b.length / 32 >= 2 && b.length / 32 < REFS_BLOCK_MAX && b[30] !== 0xff)!;
    const extra = Buffer.from(target.subarray(0, 32));
    extra[30] = 0xff;
    const again = new IdList();
    for (const id of ids) again.add(id);
    again.add(extra);
    const after = refsBlocks(again.sortedUnique()).map((b) => createHash("sha256").update(b).digest("hex"));
    expect(after.length).toBe(blocksBefore.length);
    expect(after.filter((h) => !before.has(h)).length).toBe(1);
  });

  it("cut at the maximum pass a gained id's overflow on to the next block, up to the next cut point", () => {
    // 8192 ids with no cut point, then 100 more ending on one: two blocks, the first full.
    const ids: Buffer[] = [];
    for (let i = 0; i < REFS_BLOCK_MAX + 100; i++) {
      const id = randomBytes(32);
      id.writeUInt32BE(i * 16, 0); // ascending, with room between neighbours
      id.writeUInt16BE(i === REFS_BLOCK_MAX + 99 ? 0 : 0xffff, 30);
      ids.push(id);
    }
    const list = new IdList();
    for (const id of ids) list.add(id);
    const blocksBefore = refsBlocks(list.sortedUnique());
    expect(blocksBefore.map((b) => b.length / 32)).toEqual([REFS_BLOCK_MAX, 100]);
    const extra = Buffer.from(ids[5]);
    extra.writeUInt32BE(5 * 16 + 1, 0);
    const again = new IdList();
    for (const id of [...ids, extra]) again.add(id);
    const blocksAfter = refsBlocks(again.sortedUnique());
    expect(blocksAfter.map((b) => b.length / 32)).toEqual([REFS_BLOCK_MAX, 101]);
    expect(Buffer.from(blocksAfter[1].subarray(0, 32))).toEqual(ids[REFS_BLOCK_MAX - 1]);
  });

  it("of an empty set are none", () => {
    expect(refsBlocks(new Uint8Array(0))).toEqual([]);
  });
});
