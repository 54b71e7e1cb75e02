// prune on Ceph RGW with an Object Lock bucket (versioned): deletes by version id (no delete
// markers left behind), never touches a locked version and reports it, never repacks or marks a
// locked pack, purges the versions and markers plain DELETEs left, and --extend-locks keeps the
// locks of kept snapshots' packs ahead. push has no --lock-days yet, so the test locks objects
// through the storage API (GOVERNANCE, so the bucket can be cleaned up afterwards).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PACKS_PREFIX, packKey, snapshotKey } from "@cairn/repository";
import { openStorage, type Storage } from "@cairn/storage";
import { storeNow } from "@cairn/prune";
import { tempDir } from "./helpers/cli.js";
import { cairnA, shA } from "./helpers/async-cli.js";
import { bytes, keys, plantSnapshot, readSnapshot, signByStranger } from "./helpers/damage.js";
import { s3Available, s3Options, withBucket } from "./helpers/s3.js";

async function versionsOf(storage: Storage, key: string) {
  const out = [];
  for await (const v of storage.listVersions!(key)) if (v.key === key) out.push(v);
  return out;
}

describe.skipIf(!s3Available())("prune on an Object Lock bucket (Ceph RGW)", () => {
  it("deletes by version id, keeps and reports locked versions, purges markers, extends locks", () =>
    withBucket(
      async ({ url, env: s3env }) => {
        const d = tempDir("cairn-prune-lock-");
        try {
          const at = (p: string) => join(d.path, p);
          const env = { ...s3env, CAIRN_WRITERS: at("writers"), CAIRN_CACHE: at("cache"), CAIRN_PASSPHRASE: "", CAIRN_WRITER_KEY: "", CAIRN_OWNER_KEY: "" };
          expect((await cairnA(["init", url, "--owner-key", at("owner.key"), "--writer-key", at("writer.key")], { env })).status).toBe(0);
          mkdirSync(at("data"));
          writeFileSync(at("data/big.bin"), bytes("big", 500_000)); // one chunk, whatever the chunker secret
          writeFileSync(at("data/a.txt"), "A\n");
          const backup = async () => {
            const r = await shA(`cairn backup -k writer.key --pack-size 150000 --json ${url} data`, { env, cwd: d.path });
            expect(r.status, r.stderr).toBe(0);
            return JSON.parse(r.stdout.toString()).targets[0].snapshot as string;
          };
          const storage = await openStorage(url, s3Options());
          const snapA = await backup();
          const packsA = await keys(storage, PACKS_PREFIX);
          writeFileSync(at("data/a.txt"), "B\n");
          writeFileSync(at("data/onlyB.bin"), bytes("onlyB", 200_000));
          const snapB = await backup();
          expect((await storage.lockInfo!())?.objectLock).toBe(true);

          // Lock every pack A's push wrote (some of them B needs too) for a day.
          const until = new Date(Math.ceil(Date.now() / 1000) * 1000 + 86_400_000);
          for (const p of packsA) await storage.setRetention!(packKey(p), { mode: "GOVERNANCE", until });
          // A planted, unpinned snapshot removed with a plain DELETE: a delete marker over a version.
          const b = (await readSnapshot(storage, snapB)).commit;
          const stray = await plantSnapshot(storage, signByStranger({ ...b, time: new Date().toISOString() }));
          await storage.delete(snapshotKey(stray));
          expect((await versionsOf(storage, snapshotKey(stray))).map((v) => v.deleteMarker).sort()).toEqual([false, true]);

          // prune ages objects by the store's clock, which it reads from a probe's HEAD: RGW gives
          // Last-Modified there to the second, but to the millisecond in listings. A pack listed at
          // hh:mm:ss.700 is still "young" (not garbage yet) to a prune whose clock reads hh:mm:ss,
          // so when B's backup takes under a second A's packs would be neither marked nor reported
          // as locked. Wait until the store's clock, as prune reads it, has reached them.
          let newest = 0;
          for await (const o of storage.list(PACKS_PREFIX)) newest = Math.max(newest, o.mtime.getTime());
          while ((await storeNow(storage)).getTime() < newest) await new Promise((r) => setTimeout(r, 100));

          const run = async (...flags: string[]) => {
            const r = await cairnA(["prune", url, "--json", "--grace", "0s", ...flags], { env, cwd: d.path });
            expect(r.status, r.stderr).toBe(0);
            return JSON.parse(r.stdout.toString());
          };
          const first = await run("--keep-last", "1", "--repack-threshold", "0.01");
          expect(first.removed).toEqual([snapA]);
          expect(await versionsOf(storage, snapshotKey(snapA))).toEqual([]); // every version gone, no delete marker
          expect(await versionsOf(storage, snapshotKey(stray))).toEqual([]); // purged: version and marker
          expect(first.gc.versionsPurged).toBeGreaterThanOrEqual(2);
          // A-only packs are garbage but locked: not marked, not repacked, reported.
          const lockedKept = first.keptForLock.map((k: any) => k.key);
          expect(lockedKept.length).toBeGreaterThan(0);
          for (const k of lockedKept) expect(packsA.map(packKey)).toContain(k);
          for (const p of [...first.gc.marked, ...first.gc.repacked]) expect(packsA).not.toContain(p);
          const second = await run("--keep-last", "1", "--extend-locks", "3");
          for (const p of second.gc.deleted) expect(packsA).not.toContain(p);
          for (const p of packsA) {
            const versions = await versionsOf(storage, packKey(p));
            expect(versions.length).toBe(1);
            expect(versions[0].deleteMarker).toBe(false);
          }
          // --extend-locks: the locked packs B still uses are now held at least ~3 days ahead.
          expect(second.gc.locksExtended).toBeGreaterThan(0);
          let extended = 0;
          for (const p of packsA) {
            const r = await storage.retention!(packKey(p));
            if (r && r.until.getTime() > Date.now() + 2.5 * 86_400_000) extended++;
          }
          expect(extended).toBe(second.gc.locksExtended);
          const v = await cairnA(["verify", url, "--json", "--no-cache", "--read-data", "-i", at("owner.key"), "--restore-test", snapB], { env, cwd: d.path });
          const report = JSON.parse(v.stdout.toString());
          expect(report.problems).toEqual([]);
          expect(report.stats.filesRestored).toBe(3);
        } finally {
          d.cleanup();
        }
      },
      { objectLock: true },
    ));
});

describe.skipIf(!s3Available())("prune's clock on Ceph RGW", () => {
  it("is never behind the listed time of an object written just before it (RGW's HEAD has whole seconds, its listings milliseconds)", () =>
    withBucket(async ({ url }) => {
      const storage = await openStorage(url, s3Options());
      for (let i = 0; i < 8; i++) {
        await storage.put(`packs/clock-test-${i}`, new Uint8Array(1));
        let listed = 0;
        for await (const o of storage.list(`packs/clock-test-${i}`)) listed = Math.max(listed, o.mtime.getTime());
        expect(listed).toBeGreaterThan(0);
        expect((await storeNow(storage)).getTime()).toBeGreaterThanOrEqual(listed);
      }
    }));
});
