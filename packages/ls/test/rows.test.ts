import { afterEach, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Frame } from "@cairn/protocol";
import { openStorage } from "@cairn/storage";
import { createConfig, newConfig } from "@cairn/repository";
import { push } from "@cairn/push";
import { formatRows, listSnapshotRows } from "../src/index.js";
import { fixtureFrames, fixtureSnapshot, randomChunks } from "../../../test/helpers/sealed-fixture.js";

const KEYSET = "11".repeat(32);
const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

async function* frames(gen: Iterable<Frame>): AsyncGenerator<Frame> {
  yield* gen;
}

it("lists each snapshot with the size its COMMIT's stats.bytes gives, and marks a partial one", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cairn-ls-"));
  dirs.push(dir);
  const storage = await openStorage(`file://${dir}/repo`);
  await createConfig(storage, newConfig({ keyset: KEYSET }));
  await push(frames(fixtureFrames(fixtureSnapshot(randomChunks(3, 1000), { keyset: KEYSET, label: "whole", time: "2026-11-01T00:00:00.000Z" }))), [storage], { cache: false });
  await push(frames(fixtureFrames(fixtureSnapshot(randomChunks(2, 1000), { keyset: KEYSET, label: "cut", time: "2026-11-02T00:00:00.000Z", partial: 1 }))), [storage], { cache: false });
  const rows = await listSnapshotRows(storage, { cache: false });
  expect(rows.map((r) => [r.label, r.size, r.partial])).toEqual([
    ["whole", 3000, undefined],
    ["cut", 2000, 1],
  ]);
  const table = formatRows(rows).split("\n");
  expect(table[1]).toMatch(/ 2\.9 KiB .*[0-9a-f]{16}$/);
  expect(table[2]).toMatch(/ 2\.0 KiB .*[0-9a-f]{16} \(partial\)$/);
});
