// push --lock-days (docs/repository.md, "Push: Object Lock"): every pack, index file and the
// snapshot object is stored under Object Lock, verified by reading the retention back from the
// store; a store that cannot lock is refused before anything is committed.
import { describe, expect, it } from "vitest";
import { INDEX_PREFIX, PACKS_PREFIX, SNAPSHOTS_PREFIX } from "@cairn/repository";
import { openStorage, type Storage } from "@cairn/storage";
import { cairnA } from "./helpers/async-cli.js";
import { pushKeys } from "./helpers/push-keys.js";
import { push } from "@cairn/push";
import { fixtureFrames, fixtureSnapshot, fixtureStream, randomChunks } from "./helpers/sealed-fixture.js";
import { s3Available, s3Options, withBucket } from "./helpers/s3.js";

const keys = pushKeys("cairn-push-lock-");
const { dir, at, env } = keys;

const keysUnder = async (storage: Storage, prefix: string) => {
  const out: string[] = [];
  for await (const o of storage.list(prefix)) out.push(o.key);
  return out;
};

describe("push --lock-days", () => {
  it("refuses a folder repository (exit 2) before reading the stream", async () => {
    const repo = `file://${at("folder")}`;
    expect((await cairnA(["init", repo, "--writer-key", at("writer.key")], { env })).status).toBe(0);
    // An empty stdin: a push that read the stream would fail with a stream error (10) instead.
    const r = await cairnA(["push", repo, "--lock-days", "7"], { env, input: "" });
    expect(r.status).toBe(2);
    expect(r.stderr.toString().trim()).toBe(`cairn-push: --lock-days needs an S3 bucket with Object Lock; ${repo} cannot lock objects`);
  });

  it("refuses --lock-days that is not a whole number of days ≥ 1 (exit 2)", async () => {
    for (const bad of ["0", "1.5", "x"]) {
      const r = await cairnA(["push", `file://${at("folder")}`, "--lock-days", bad], { env, input: "" });
      expect(r.status).toBe(2);
      expect(r.stderr.toString()).toContain("--lock-days needs a positive whole number");
    }
    const r = await cairnA(["push", `file://${at("folder")}`, "--lock-mode", "GOVERNANCE"], { env, input: "" });
    expect(r.status).toBe(2);
    expect(r.stderr.toString()).toContain("--lock-mode needs --lock-days");
  });
});

describe.skipIf(!s3Available())("push --lock-days on Ceph RGW", () => {
  it("commits with every pack, index file and the snapshot retained ≥ N days; a locked pack version cannot be deleted", () =>
    withBucket(
      async ({ url, env: s3env }) => {
        const e = { ...env, ...s3env };
        expect((await cairnA(["init", url, "--writer-key", at("writer.key"), "--pack-size", String(64 * 1024)], { env: e })).status).toBe(0);
        const stream = await fixtureStream(fixtureSnapshot(randomChunks(12, 16 * 1024), { keyset: keys.keyset }));
        const asked = Date.now() + 2 * 86_400_000;
        const r = await cairnA(["push", url, "--lock-days", "2", "--json"], { env: e, input: stream });
        expect(r.status, r.stderr.toString()).toBe(0);
        const stats = JSON.parse(r.stdout.toString()).targets[0];
        expect(stats.snapshot).toMatch(/^[0-9a-f]{64}$/);
        expect(Date.parse(stats.lockedUntil)).toBeGreaterThanOrEqual(asked - 1000);
        expect(Date.parse(stats.lockedUntil)).toBeLessThan(asked + 60_000);

        const storage = await openStorage(url, s3Options());
        const packs = await keysUnder(storage, PACKS_PREFIX);
        const indexes = await keysUnder(storage, INDEX_PREFIX);
        const snapshots = await keysUnder(storage, SNAPSHOTS_PREFIX);
        expect(packs.length).toBeGreaterThan(1);
        expect(indexes.length).toBeGreaterThan(0);
        expect(snapshots).toEqual([`${SNAPSHOTS_PREFIX}${stats.snapshot}`]);
        for (const key of [...packs, ...indexes, ...snapshots]) {
          const ret = await storage.retention!(key);
          expect(ret, key).toBeDefined();
          expect(ret!.mode).toBe("COMPLIANCE");
          expect(ret!.until.getTime()).toBeGreaterThanOrEqual(Date.parse(stats.lockedUntil) - 1000);
        }
        const versions = [];
        for await (const v of storage.listVersions!(packs[0])) versions.push(v);
        expect(versions).toHaveLength(1);
        await expect(storage.deleteVersion!(packs[0], versions[0].versionId)).rejects.toMatchObject({ kind: "refused" });
        const still = [];
        for await (const v of storage.listVersions!(packs[0])) still.push(v);
        expect(still.map((v) => v.versionId)).toEqual([versions[0].versionId]);
      },
      { objectLock: true, tag: "push-lock" },
    ));

  it("--lock-mode GOVERNANCE stores GOVERNANCE retention", () =>
    withBucket(
      async ({ url, env: s3env }) => {
        const e = { ...env, ...s3env };
        expect((await cairnA(["init", url, "--writer-key", at("writer.key")], { env: e })).status).toBe(0);
        const stream = await fixtureStream(fixtureSnapshot(randomChunks(3, 8 * 1024), { keyset: keys.keyset }));
        const r = await cairnA(["push", url, "--lock-days", "1", "--lock-mode", "GOVERNANCE"], { env: e, input: stream });
        expect(r.status, r.stderr.toString()).toBe(0);
        const storage = await openStorage(url, s3Options());
        const snap = `${SNAPSHOTS_PREFIX}${r.stdout.toString().trim()}`;
        expect((await storage.retention!(snap))?.mode).toBe("GOVERNANCE");
      },
      { objectLock: true, tag: "push-gov" },
    ));

  it("refuses a store that accepts the lock headers and ignores them (as Swift's s3api does): exit 18, no snapshot", () =>
    withBucket(
      async ({ url, env: s3env }) => {
        const e = { ...env, ...s3env };
        expect((await cairnA(["init", url, "--writer-key", at("writer.key")], { env: e })).status).toBe(0);
        const real = await openStorage(url, s3Options());
        // The real lock-enabled bucket, reached through a store front that drops the lock headers.
        const ignoring = Object.create(real) as Storage;
        ignoring.put = (key, body, opts) => real.put(key, body, { ifNoneMatch: opts?.ifNoneMatch });
        const frames = (async function* () {
          yield* fixtureFrames(fixtureSnapshot(randomChunks(4, 8 * 1024), { keyset: keys.keyset }));
        })();
        const failure = await push(frames, [ignoring], { cache: false, lock: { days: 1, mode: "GOVERNANCE" } }).then(
          () => undefined,
          (err) => err,
        );
        expect(failure).toMatchObject({ kind: "refused", exitCode: 18 });
        expect(failure.message).toMatch(new RegExp(`^${url} ignored the Object Lock headers \\(no retention on packs/[0-9a-f/]+\\): refusing to claim immutability; nothing committed$`));
        expect(await keysUnder(real, SNAPSHOTS_PREFIX)).toEqual([]);
      },
      { objectLock: true, tag: "push-ignored" },
    ));

  it("refuses a bucket without Object Lock (exit 18, one line, no snapshot)", () =>
    withBucket(
      async ({ url, env: s3env }) => {
        const e = { ...env, ...s3env };
        expect((await cairnA(["init", url, "--writer-key", at("writer.key")], { env: e })).status).toBe(0);
        const stream = await fixtureStream(fixtureSnapshot(randomChunks(4, 8 * 1024), { keyset: keys.keyset }));
        const r = await cairnA(["push", url, "--lock-days", "1"], { env: e, input: stream });
        expect(r.status).toBe(18);
        const lines = r.stderr.toString().trim().split("\n");
        expect(lines).toHaveLength(1);
        expect(lines[0]).toBe(`cairn-push: ${url} does not have Object Lock enabled: refusing to claim immutability; nothing committed`);
        const storage = await openStorage(url, s3Options());
        expect(await keysUnder(storage, SNAPSHOTS_PREFIX)).toEqual([]);
      },
      { tag: "push-nolock" },
    ));
});
