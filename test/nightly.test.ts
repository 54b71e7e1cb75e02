// examples/nightly.sh, the three-layer cron job, against a local folder, the real Ceph RGW and an
// offsite folder: every layer holds the same snapshots, the offsite copy restores byte for byte,
// and with the cloud gone the job still commits locally, copies offsite, and exits with the
// cloud's failure.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, tempDir, type Result } from "./helpers/cli.js";
import { shA } from "./helpers/async-cli.js";
import { newBucketUrl, s3Available, type TestBucket } from "./helpers/s3.js";

// The tests run in order and share the layers: the first run makes the keys and repositories.
describe.skipIf(!s3Available())("examples/nightly.sh", () => {
  let dir = { path: "", cleanup: () => {} };
  let bucket: TestBucket | undefined;
  let layers: Record<"LOCAL" | "CLOUD" | "OFFSITE", string>;
  let env: Record<string, string> = {};

  const nightly = (extra: Record<string, string> = {}): Promise<Result> =>
    shA(`bash ${ROOT}/examples/nightly.sh`, { cwd: dir.path, env: { ...env, ...extra } });
  const ids = async (repo: string, extra: Record<string, string> = {}): Promise<string[]> => {
    const r = await shA(`cairn ls --json ${repo}`, { cwd: dir.path, env: { ...env, ...extra } });
    expect(r.stderr).toBe("");
    return r.stdout.toString().trim().split("\n").filter(Boolean).map((l) => JSON.parse(l).id).sort();
  };

  beforeAll(async () => {
    dir = tempDir("cairn-nightly-");
    bucket = await newBucketUrl({ tag: "nightly" });
    const src = join(dir.path, "src");
    mkdirSync(join(src, "etc"), { recursive: true });
    writeFileSync(join(src, "etc", "app.conf"), "mode = 1\n");
    writeFileSync(join(src, "data.bin"), Buffer.alloc(3 << 20, 7));
    layers = { LOCAL: `file://${dir.path}/local`, CLOUD: bucket.url, OFFSITE: `file://${dir.path}/offsite` };
    env = { ...bucket.env, ...layers, SRC: src, WORK: dir.path, CAIRN_WRITERS: join(dir.path, "writers"), CAIRN_CACHE: join(dir.path, "cache"), CAIRN_WRITER_KEY: "", CAIRN_OWNER_KEY: "" };
  }, 60_000);

  afterAll(async () => {
    await bucket?.cleanup();
    dir.cleanup();
  });

  it("backs up to a folder and RGW at once, copies offsite, prunes and verifies; the offsite copy restores", async () => {
    const first = await nightly();
    expect(first.status).toBe(0);
    // Keys and three repositories made on the first run; every step reports ok.
    const steps = first.stdout.toString().trim().split("\n");
    expect(steps).toEqual([
      `nightly: backup to ${layers.LOCAL} and ${layers.CLOUD}: ok`,
      `nightly: copy to ${layers.OFFSITE}: ok`,
      `nightly: prune ${layers.LOCAL}: ok`,
      `nightly: prune ${layers.CLOUD}: ok`,
      `nightly: prune ${layers.OFFSITE}: ok`,
      `nightly: verify ${layers.LOCAL}: ok`,
      `nightly: verify ${layers.CLOUD}: ok`,
      `nightly: verify ${layers.OFFSITE}: ok`,
      `nightly: all steps ok (work directory ${dir.path})`,
    ]);

    // The same snapshot (same id: one signed commit) in all three layers.
    const local = await ids(layers.LOCAL);
    expect(local).toHaveLength(1);
    expect(await ids(layers.CLOUD)).toEqual(local);
    expect(await ids(layers.OFFSITE)).toEqual(local);

    // The offsite copy alone restores the tree exactly.
    const src = `${dir.path.slice(1)}/src`; // entries keep the absolute path, less its "/"
    const restore = await shA(`cairn restore -i owner.key ${layers.OFFSITE} latest -x out && diff -r src out/${src}`, { cwd: dir.path, env });
    expect(restore.stderr).toBe("");
    expect(restore.status).toBe(0);
  }, 240_000);

  it("with the cloud unreachable: commits locally, copies offsite, reports the cloud's steps and exits with the storage code", async () => {
    const before = await ids(layers.LOCAL);
    writeFileSync(join(dir.path, "src", "etc", "app.conf"), "mode = 3\n");
    // Nothing listens on port 9: every request to the cloud is refused (two attempts each). No KEY:
    // the job finds the keys the first run made and creates nothing.
    // With the owner key on this host, the job also restore-tests the offsite copy.
    const r = await nightly({ CAIRN_S3_ENDPOINT: "http://127.0.0.1:9", CAIRN_S3_MAX_ATTEMPTS: "2", OWNER_KEY: join(dir.path, "owner.key"), VERIFY: "100%" });
    expect(r.status).toBe(16); // storage failure (docs/exit-codes.md)
    const out = r.stdout.toString();
    const err = r.stderr;
    expect(err).toContain(`nightly: backup to ${layers.LOCAL} and ${layers.CLOUD}: FAILED (exit 16)`);
    expect(err).toContain(`nightly: prune ${layers.CLOUD}: FAILED`);
    expect(err).toContain(`nightly: verify ${layers.CLOUD}: FAILED`);
    // Each of cairn's own failures is one line naming the cloud.
    for (const line of err.split("\n").filter((l) => l.startsWith("cairn-"))) expect(line).toMatch(/s3:\/\/|127\.0\.0\.1:9/);
    expect(out).toContain(`nightly: copy to ${layers.OFFSITE}: ok`);
    expect(out).toContain(`nightly: verify ${layers.LOCAL}: ok`);
    expect(out).toContain(`nightly: restore test of ${layers.OFFSITE}: ok`);
    expect(out).not.toContain("all steps ok");

    // One new snapshot locally (prune may have let an older one of the same day go), copied offsite.
    const local = await ids(layers.LOCAL);
    expect(local.filter((id) => !before.includes(id))).toHaveLength(1);
    expect(await ids(layers.OFFSITE)).toEqual(local);
    expect(await ids(layers.CLOUD)).toEqual(before); // the real RGW: nothing reached it
    // The offsite copy has the new snapshot and the first one: each file as it was then.
    const conf = `${dir.path.slice(1)}/src/etc/app.conf`;
    const latest = await shA(`cairn restore -i owner.key ${layers.OFFSITE} latest ${conf} --stdout`, { cwd: dir.path, env });
    expect(latest.stdout.toString()).toBe("mode = 3\n");
    const first = await shA(`cairn restore -i owner.key ${layers.OFFSITE} ${before[0].slice(0, 12)} ${conf} --stdout`, { cwd: dir.path, env });
    expect(first.stdout.toString()).toBe("mode = 1\n");
  }, 240_000);
});
