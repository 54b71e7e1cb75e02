// The damage cases a disk causes most often, on Ceph RGW: a flipped byte in a pack and a deleted
// pack. verify names each (exit 22), the restore pipeline fails loudly, and the snapshot the
// damage does not touch still restores.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packKey } from "@cairn/repository";
import { openStorage, type Storage } from "@cairn/storage";
import { readTrustedWriters } from "@cairn/keys";
import { verifyRepository } from "@cairn/verify";
import { cairnA, shA } from "./helpers/async-cli.js";
import { newBucketUrl, s3Available, s3Options, type TestBucket } from "./helpers/s3.js";
import { buildFixture, copyStore, dataPackOfB, flipByte, type Fixture } from "./helpers/damage.js";
import { startFaultProxy } from "./helpers/fault-proxy.js";

async function listKeys(storage: Storage, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of storage.list(prefix)) out.push(o.key);
  return out.sort();
}

describe.skipIf(!s3Available())("damage on Ceph RGW", () => {
  let f: Fixture;
  const buckets: TestBucket[] = [];
  beforeAll(async () => {
    f = await buildFixture();
  });
  afterAll(async () => {
    for (const b of buckets) await b.cleanup();
    f?.cleanup();
  });

  /** The fixture repository copied into a fresh bucket. */
  async function onRgw(tag: string): Promise<{ url: string; env: Record<string, string>; storage: Storage }> {
    const b = await newBucketUrl({ tag });
    buckets.push(b);
    const storage = await openStorage(b.url, s3Options());
    await copyStore(await openStorage(`file://${f.repo}`), storage);
    return { url: b.url, env: { ...f.env, ...b.env }, storage };
  }

  async function verifyCli(url: string, env: Record<string, string>, ...flags: string[]) {
    const r = await cairnA(["verify", url, "--json", "--no-cache", ...flags], { env, cwd: f.dir });
    return { status: r.status, report: JSON.parse(r.stdout.toString() || "{}"), stderr: r.stderr };
  }

  async function restoreFails(url: string, env: Record<string, string>, snapshot: string, message: RegExp) {
    const r = await shA(`cairn pull -i owner.key ${url} ${snapshot} | cairn seal -d -i owner.key | cairn chunk -d -i owner.key | cairn snapshot -x ${join(f.dir, `out-${snapshot.slice(0, 8)}-${Date.now()}`)}`, { env, cwd: f.dir });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
  }

  async function stillRestores(storage: Storage, snapshot: string) {
    const report = await verifyRepository(storage, { trusted: readTrustedWriters(f.env.CAIRN_WRITERS), cache: false, identity: [join(f.dir, "owner.key")], restoreTest: snapshot });
    expect(report.problems.size === 0 || [...report.problems.values()].every((p) => !p.snapshots.includes(snapshot))).toBe(true);
    expect(report.stats.filesRestored).toBe(2);
  }

  it("a pack damaged on the way, not at rest, is read again: verify finds nothing, repair moves nothing", async () => {
    const { url, env, storage } = await onRgw("transit");
    const proxy = await startFaultProxy({ target: process.env.CAIRN_S3_ENDPOINT!, corruptGets: { path: /\/packs\//, times: 1 } });
    try {
      const v = await verifyCli(url, env, "--read-data", "--endpoint", proxy.url);
      expect(proxy.stats.corruptedGets).toBe(1);
      expect(v.report.problems).toEqual([]);
      expect(v.status).toBe(0);
      expect(v.report.notes).toEqual(expect.arrayContaining([expect.stringMatching(/^pack [0-9a-f]{64} hashed to its name on a second read: the first was damaged on the way, not at rest$/)]));
      proxy.stats.corruptedGets = 0;
      const packsBefore = await listKeys(storage, "packs/");
      const r = await cairnA(["repair", url, "--endpoint", proxy.url], { env, cwd: f.dir });
      expect(proxy.stats.corruptedGets).toBe(1);
      expect(r.status, r.stderr).toBe(0);
      expect(await listKeys(storage, "packs/")).toEqual(packsBefore);
      expect(await listKeys(storage, "damaged/")).toEqual([]);
    } finally {
      await proxy.close();
    }
    await stillRestores(storage, f.snapA);
  });

  it("a flipped byte in a pack is found by --read-data without a key", async () => {
    const { url, env, storage } = await onRgw("flip");
    const { pack, entry } = await dataPackOfB(storage, f);
    await flipByte(storage, packKey(pack), entry.offset + entry.length - 20);
    const v = await verifyCli(url, env, "--read-data");
    expect(v.stderr).toBe("");
    expect(v.status).toBe(22);
    expect(v.report.problems).toEqual([expect.objectContaining({ object: `pack ${pack}`, snapshots: [f.snapB], message: expect.stringMatching(/do not hash to its name/) })]);
    await restoreFails(url, env, f.snapB, /cairn-seal: .*data chunk [0-9a-f]{64}/);
    await stillRestores(storage, f.snapA);
  });

  it("a deleted pack is named without reading any data", async () => {
    const { url, env, storage } = await onRgw("delete");
    const pack = f.packsB[0];
    await storage.delete(packKey(pack));
    const v = await verifyCli(url, env);
    expect(v.status).toBe(22);
    expect(v.report.problems).toEqual([expect.objectContaining({ object: `pack ${pack}`, snapshots: [f.snapB], message: expect.stringMatching(/missing from the store/) })]);
    await restoreFails(url, env, f.snapB, /pack [0-9a-f]{64} is missing/);
    await stillRestores(storage, f.snapA);
  });
});
