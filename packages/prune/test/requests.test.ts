// What a run costs in LISTs on a repository with nothing to collect: each prefix listed no more
// often than the run needs it (the clock probes a killed run left are found in the marks/ listing).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { init } from "@cairn/init";
import { openStorage, type Storage } from "@cairn/storage";
import { prune } from "../src/index.js";

const tmp = mkdtempSync(join(tmpdir(), "cairn-prune-requests-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The storage, recording the prefix of every listing. */
function listings(inner: Storage): { storage: Storage; prefixes: string[] } {
  const prefixes: string[] = [];
  const storage = Object.create(inner) as Storage;
  storage.list = (prefix: string) => {
    prefixes.push(prefix);
    return inner.list(prefix);
  };
  return { storage, prefixes };
}

it("lists marks/ for the clock probes no more than it did for the marks", async () => {
  const inner = await openStorage(`file://${join(tmp, "repo")}`);
  await init(inner, { ownerKey: join(tmp, "owner.key"), writerKey: join(tmp, "writer.key") });
  const { storage, prefixes } = listings(inner);
  const r = await prune(storage, { policy: {}, groupBy: [], pinned: new Set(), cache: false, graceMs: 0 });
  expect(r.problems).toEqual([]);
  // The probe's own listing (storeNow), then marks/ by the index loader and by the collection.
  expect(prefixes.filter((p) => p.startsWith("marks/"))).toEqual([expect.stringMatching(/^marks\/clock-[0-9a-f]{16}$/), "marks/", "marks/"]);
});
