// prune is safe while backups run (docs/prune.md, "Garbage collection"): rounds of concurrent
// pushes from three "hosts" (real snapshot | chunk | seal | push pipelines, each with its own
// writer key) and prunes with a 2 s grace period against one repository. A push may be refused
// (exit 17: a pack it reused was marked meanwhile; nothing committed), never damaged. Afterwards
// every snapshot verifies with --read-data and the owner key, and two restore with every digest.
// On a folder, and on Ceph RGW when the suite has one (measured at load average ~22 on 2 cores:
// about 30 s on a folder, 58 s on RGW).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MARKS_PREFIX, SNAPSHOTS_PREFIX } from "@cairn/repository";
import { storeNow } from "@cairn/prune";
import { openStorage } from "@cairn/storage";
import { tempDir } from "./helpers/cli.js";
import { cairnA, shA } from "./helpers/async-cli.js";
import { bytes, keys } from "./helpers/damage.js";
import { s3Available, s3Options, withBucket } from "./helpers/s3.js";

const HOSTS = 3;

describe("concurrent push and prune", () => {
  it("many rounds of pushes from three hosts racing prunes (grace 2 s) on a folder: no snapshot damaged", async () => {
    const d = tempDir("cairn-prune-race-");
    try {
      await race(`file://${join(d.path, "repo")}`, d.path, {}, 3);
    } finally {
      d.cleanup();
    }
  });

  it.skipIf(!s3Available())("the same on Ceph RGW", () =>
    withBucket(async ({ url, env }) => {
      const d = tempDir("cairn-prune-race-s3-");
      try {
        await race(url, d.path, env, 3);
      } finally {
        d.cleanup();
      }
    }));
});

async function race(url: string, dir: string, extraEnv: Record<string, string>, ROUNDS: number): Promise<void> {
      const at = (p: string) => join(dir, p);
      const d = { path: dir };
      const env = { ...extraEnv, CAIRN_WRITERS: at("writers"), CAIRN_CACHE: at("cache"), CAIRN_PASSPHRASE: "", CAIRN_WRITER_KEY: "", CAIRN_OWNER_KEY: "" };
      const init = await cairnA(["init", url, "--owner-key", at("owner.key"), "--writer-key", at("w0.key")], { env });
      expect(init.status, init.stderr).toBe(0);
      for (let h = 1; h < HOSTS; h++) {
        const k = await cairnA(["key", "writer", "-i", at("owner.key"), "-o", at(`w${h}.key`), "--name", `host${h}`], { env });
        expect(k.status, k.stderr).toBe(0);
      }
      for (let h = 0; h < HOSTS; h++) {
        mkdirSync(at(`host${h}`));
        writeFileSync(at(`host${h}/shared.bin`), bytes("shared", 400_000)); // the same on every host: deduplicated
      }
      const committed: string[] = [];
      const committedBy = new Array<number>(HOSTS).fill(0);
      let refused = 0;
      const push = async (h: number, round: number) => {
        writeFileSync(at(`host${h}/round.bin`), bytes(`host${h}/round${round}`, 50_000 + 1000 * round));
        writeFileSync(at(`host${h}/steady.txt`), `host ${h} steady ${round % 2}\n`); // alternates: old chunks come back
        // Each host cuts small packs, so packs mix objects that later snapshots keep and drop.
        const r = await shA(
          `cairn snapshot host${h} --label host${h} | cairn chunk -k w${h}.key | cairn seal -k w${h}.key | cairn push --pack-size 120000 ${url}`,
          { env, cwd: d.path },
        );
        if (r.status === 0) {
          committed.push(r.stdout.toString().trim());
          committedBy[h]++;
        }
        else {
          expect(r.status, r.stderr).toBe(17);
          expect(r.stderr).toMatch(/marked for deletion \(or deleted\) by prune while the push ran; nothing committed/);
          refused++;
        }
      };
      const prune = async (grace: string) => {
        const r = await cairnA(["prune", url, "--keep-last", "2", "--grace", grace, "--repack-threshold", "30", "--json"], { env, cwd: d.path });
        expect(r.status, r.stderr).toBe(0);
        return JSON.parse(r.stdout.toString());
      };
      let deleted = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const work: Promise<unknown>[] = [];
        for (let h = 0; h < HOSTS; h++) work.push(push(h, round));
        work.push(prune("2s").then((r) => (deleted += r.gc.deleted.length)));
        work.push(new Promise((res) => setTimeout(res, 700)).then(() => prune("2s")).then((r) => (deleted += r.gc.deleted.length)));
        await Promise.all(work);
      }
      // Let the last marks age past the grace period by the store's clock, as prune reads it (on
      // RGW to the second: a fixed 2.1 s wait could fall short by up to a second), then collect (a
      // second run drops the marks of deleted packs once no index lists them).
      const storage = await openStorage(url, url.startsWith("s3:") ? s3Options() : {});
      let newestMark = 0;
      for await (const o of storage.list(MARKS_PREFIX)) newestMark = Math.max(newestMark, o.mtime.getTime());
      while ((await storeNow(storage)).getTime() < newestMark + 2000) await new Promise((res) => setTimeout(res, 100));
      deleted += (await prune("2s")).gc.deleted.length;
      await prune("2s");
      expect(committed.length).toBeGreaterThan(HOSTS);
      expect(deleted).toBeGreaterThan(0); // garbage really was collected while pushes ran
      const left = await keys(storage, SNAPSHOTS_PREFIX);
      const kept = committedBy.reduce((n, c) => n + Math.min(2, c), 0); // keep-last 2 per host (group: host and label)
      expect(left.length).toBe(kept);
      const v = await cairnA(["verify", url, "--json", "--no-cache", "--read-data", "-i", at("owner.key")], { env, cwd: d.path });
      const report = JSON.parse(v.stdout.toString());
      expect(report.problems).toEqual([]);
      expect(v.status).toBe(0);
      expect(report.stats.trusted).toBe(kept);
      for (const id of left.slice(0, 2)) {
        const t = await cairnA(["verify", url, "--json", "--no-cache", "-i", at("owner.key"), "--restore-test", id], { env, cwd: d.path });
        const tr = JSON.parse(t.stdout.toString());
        expect(tr.problems).toEqual([]);
        expect(tr.stats.filesRestored).toBe(3);
      }
      console.log(`concurrent push/prune on ${url.slice(0, 5)}: ${committed.length} committed, ${refused} refused (exit 17), ${deleted} packs deleted`);
}
