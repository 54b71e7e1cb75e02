// What only an S3 store does: credentials, a flaky or dead server (through a fault-injecting
// proxy in front of the real RGW), multipart clean-up, versioning and Object Lock.
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { CreateMultipartUploadCommand, UploadPartCommand } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { CairnError } from "@cairn/errors";
import { openStorage, S3Storage, type Storage } from "@cairn/storage";
import { spawnFaultProxy, startBlackHole, startDeadServer, startFaultProxy } from "./helpers/fault-proxy.js";
import { newBucketUrl, s3Available, s3Env, s3Options, withBucket } from "./helpers/s3.js";
import { cairn, sh, tempDir } from "./helpers/cli.js";

const MiB = 1024 * 1024;

async function caught(p: Promise<unknown>): Promise<CairnError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(CairnError);
    return err as CairnError;
  }
  throw new Error("expected a CairnError, got success");
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function parallel<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("base64");

describe.skipIf(!s3Available())("S3 storage on Ceph RGW", () => {
  it("names wrong credentials in one line, as a storage error", () =>
    withBucket(async ({ url }) => {
      const s = await openStorage(url, s3Options({ credentials: { accessKeyId: "testaccesskey", secretAccessKey: "wrong" } }));
      for (const op of [() => s.get("config"), () => s.put("config", new Uint8Array(1)), () => collect(s.list(""))]) {
        const e = await caught(op());
        expect(e.kind).toBe("storage");
        expect(e.exitCode).toBe(16);
        expect(e.message).not.toContain("\n");
        expect(e.message).toMatch(/credentials/);
        expect(e.message).toContain(url);
      }
      const unknown = await openStorage(url, s3Options({ credentials: { accessKeyId: "nosuchkey", secretAccessKey: "x" } }));
      const e = await caught(unknown.get("config"));
      expect(e.kind).toBe("storage");
      expect(e.message).toMatch(/rejected the credentials .*InvalidAccessKeyId/);
    }));

  it("reports a missing bucket as notFound", async () => {
    const s = await openStorage("s3://cairn-no-such-bucket-here/repo", s3Options());
    const e = await caught(collect(s.list("")));
    expect(e.kind).toBe("notFound");
    expect(e.message).toMatch(/^bucket cairn-no-such-bucket-here not found at .*: create the bucket first, cairn init does not$/);
    // Tools that read the config say the same, not "no cairn repository … create one with cairn init".
    const ls = cairn(["ls", "s3://cairn-no-such-bucket-here/repo"], { env: s3Env() });
    expect(ls.status).toBe(15);
    expect(ls.stderr).toMatch(/^cairn-ls: bucket cairn-no-such-bucket-here not found at .*: create the bucket first, cairn init does not\n$/);
  });

  it("gets every byte through a proxy that throttles and resets connections", () =>
    withBucket(async ({ url }) => {
      const proxy = await startFaultProxy({
        target: process.env.CAIRN_S3_ENDPOINT!,
        seed: 7,
        slowDown: 0.15,
        resetRequest: 0.1,
        resetResponse: 0.15,
        maxFaultsPerRequest: 2,
      });
      try {
        const s = await openStorage(
          url,
          s3Options({ endpoint: proxy.url, maxAttempts: 4, retryBaseDelayMs: 5, retryMaxDelayMs: 50, multipartThreshold: 5 * MiB, partSize: 5 * MiB }),
        );
        // small objects, medium ones, and two that go up in parts
        const objects = Array.from({ length: 40 }, (_, i) => ({
          key: `packs/${String(i).padStart(3, "0")}`,
          body: randomBytes(i < 30 ? 1000 + i * 97 : i < 38 ? 300_000 + i : 11 * MiB + i),
        }));
        await parallel(objects, 8, (o) => s.put(o.key, o.body));
        expect((await collect(s.list("packs/"))).map((o) => [o.key, o.size])).toEqual(objects.map((o) => [o.key, o.body.length]));
        await parallel(objects, 8, async (o) => {
          expect(Buffer.from(await s.get(o.key)).equals(o.body), o.key).toBe(true);
          const r = { offset: 17, length: Math.min(500_000, o.body.length - 17) };
          expect(Buffer.from(await s.get(o.key, r)).equals(o.body.subarray(17, 17 + r.length)), o.key).toBe(true);
        });
        // every attempt is counted (an attempt on a connection the proxy had just reset may not reach it)
        const { requests, requestResets, responseResets } = proxy.stats;
        expect(s.requestCount!()).toBeGreaterThanOrEqual(requests);
        expect(s.requestCount!()).toBeLessThanOrEqual(requests + requestResets + responseResets);
        // the faults really happened, of every kind
        expect(proxy.stats.slowDowns).toBeGreaterThan(5);
        expect(proxy.stats.requestResets).toBeGreaterThan(5);
        expect(proxy.stats.responseResets).toBeGreaterThan(5);
        // and the same objects, read directly from RGW, are intact
        const direct = await openStorage(url, s3Options());
        for (const o of objects) expect(Buffer.from(await direct.get(o.key)).equals(o.body), o.key).toBe(true);
      } finally {
        await proxy.close();
      }
    }));

  it("resumes a read that breaks mid-body from the next byte", () =>
    withBucket(async ({ url }) => {
      const body = randomBytes(3 * MiB);
      await (await openStorage(url, s3Options())).put("packs/p", body);
      // every response is cut halfway (once per request): each resume must pick up where the last stopped
      const proxy = await startFaultProxy({ target: process.env.CAIRN_S3_ENDPOINT!, resetResponse: 1, maxFaultsPerRequest: 1, record: true });
      try {
        const s = await openStorage(url, s3Options({ endpoint: proxy.url, retryBaseDelayMs: 1, retryMaxDelayMs: 5 }));
        expect(Buffer.from(await s.get("packs/p", { offset: 1000, length: 2 * MiB })).equals(body.subarray(1000, 1000 + 2 * MiB))).toBe(true);
        const ranges = proxy.requests.filter((r) => r.method === "GET").map((r) => r.headers.range);
        expect(ranges[0]).toBe(`bytes=1000-${1000 + 2 * MiB - 1}`);
        expect(ranges[1]).toBe(`bytes=${1000 + MiB}-${1000 + 2 * MiB - 1}`); // the first half arrived
        expect(proxy.requests.filter((r) => r.method === "GET").every((r, i) => i === 0 || r.headers["if-match"])).toBe(true);
      } finally {
        await proxy.close();
      }
    }));

  it("reports a create-only put whose reply was lost, but which landed, as created", () =>
    withBucket(async ({ url }) => {
      const proxy = await startFaultProxy({ target: process.env.CAIRN_S3_ENDPOINT!, resetResponse: 1, maxFaultsPerRequest: 1 });
      try {
        const s = await openStorage(url, s3Options({ endpoint: proxy.url, retryBaseDelayMs: 1 }));
        expect(await s.put("locks/mine", new TextEncoder().encode("writer 1"), { ifNoneMatch: true })).toMatchObject({ created: true });
        expect(await s.put("locks/mine", new TextEncoder().encode("writer 2"), { ifNoneMatch: true })).toMatchObject({ created: false });
        expect(proxy.stats.responseResets).toBeGreaterThan(1);
      } finally {
        await proxy.close();
      }
    }));

  it("gives up on a server that refuses connections with one clear line", async () => {
    const dead = await startDeadServer();
    const port = new URL(dead.url).port;
    await dead.close(); // now nothing listens there
    const s = await openStorage("s3://some-bucket/repo", s3Options({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 3, retryBaseDelayMs: 5 }));
    const e = await caught(s.put("config", new Uint8Array(10)));
    expect(e.kind).toBe("storage");
    expect(e.message).toBe(`cannot reach S3 endpoint http://127.0.0.1:${port} (ECONNREFUSED) after 3 attempts: PUT config in s3://some-bucket/repo`);
  });

  it("gives up on a server that accepts and never answers, after the idle timeout of each attempt", async () => {
    const hole = await startBlackHole();
    try {
      const s = await openStorage("s3://some-bucket/repo", s3Options({ endpoint: hole.url, maxAttempts: 2, retryBaseDelayMs: 5, idleTimeoutMs: 300 }));
      for (const op of [() => s.get("config"), () => s.put("config", new Uint8Array(10))]) {
        const before = hole.connections();
        const e = await caught(op());
        expect(e.kind).toBe("storage");
        expect(e.message).not.toContain("\n");
        expect(e.message).toMatch(new RegExp(`^S3 endpoint ${hole.url} stopped answering \\(timeout\\) after 2 attempts: (GET|PUT) config in s3://some-bucket/repo$`));
        expect(hole.connections() - before).toBe(2);
      }
      // The same through a tool: one line and the storage exit code, not a hang.
      const r = cairn(["ls", "s3://some-bucket/repo"], { env: { ...s3Env(), CAIRN_S3_ENDPOINT: hole.url, CAIRN_S3_MAX_ATTEMPTS: "2", CAIRN_S3_IDLE_TIMEOUT_MS: "300" } });
      expect(r.status).toBe(16);
      expect(r.stderr.split("\n").filter(Boolean)).toHaveLength(1);
    } finally {
      await hole.close();
    }
  });

  it("gives up on a server that resets every connection after its retries", async () => {
    const dead = await startDeadServer();
    try {
      const s = await openStorage("s3://some-bucket/repo", s3Options({ endpoint: dead.url, maxAttempts: 4, retryBaseDelayMs: 5 }));
      for (const op of [() => s.get("config"), () => s.head("config"), () => s.put("config", new Uint8Array(10)), () => collect(s.list(""))]) {
        const before = dead.connections();
        const e = await caught(op());
        expect(e.kind).toBe("storage");
        expect(e.message).toMatch(new RegExp(`^connection to S3 endpoint ${dead.url} failed \\(ECONNRESET\\) after 4 attempts: `));
        expect(dead.connections() - before).toBe(4);
      }
    } finally {
      await dead.close();
    }
  });

  it("aborts multipart uploads abandoned before a given time", () =>
    withBucket(async ({ url, bucket }) => {
      const s = (await openStorage(url, s3Options())) as S3Storage;
      const started = await s.client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "repo/packs/abandoned" }));
      await s.client.send(
        new UploadPartCommand({ Bucket: bucket, Key: "repo/packs/abandoned", UploadId: started.UploadId, PartNumber: 1, Body: randomBytes(1000) }),
      );
      expect(await s.abortStaleMultipartUploads(new Date(Date.now() - 3_600_000))).toBe(0); // too young
      expect(await s.abortStaleMultipartUploads(new Date(Date.now() + 60_000))).toBe(1);
      expect(await s.abortStaleMultipartUploads(new Date(Date.now() + 60_000))).toBe(0);
    }));

  it("reports a bucket without Object Lock or versioning as such", () =>
    withBucket(async ({ url }) => {
      const s = await openStorage(url, s3Options());
      expect(await s.lockInfo!()).toEqual({ objectLock: false, versioning: "Disabled" });
      await s.put("config", new Uint8Array(1));
      expect(await s.retention!("config")).toBeUndefined();
    }));

  it("writes under Object Lock with Content-MD5, reads the retention back, and cannot delete a locked version", () =>
    withBucket(
      async ({ url }) => {
        const proxy = await startFaultProxy({ target: process.env.CAIRN_S3_ENDPOINT!, record: true });
        try {
          const s = await openStorage(url, s3Options({ endpoint: proxy.url, multipartThreshold: 5 * MiB, partSize: 5 * MiB }));
          expect(await s.lockInfo!()).toEqual({ objectLock: true, versioning: "Enabled" });

          const body = randomBytes(10_000);
          const until = new Date(Math.ceil(Date.now() / 1000) * 1000 + 86_400_000);
          const put = await s.put("snapshots/one", body, { lockUntil: until, lockMode: "GOVERNANCE" });
          expect(put.created).toBe(true);
          expect(put.versionId).toBeTruthy();
          const sent = proxy.requests.find((r) => r.method === "PUT" && r.url.includes("snapshots/one"))!;
          expect(sent.headers["content-md5"]).toBe(md5(body));
          expect(sent.headers["x-amz-object-lock-mode"]).toBe("GOVERNANCE");
          expect(await s.retention!("snapshots/one")).toEqual({ mode: "GOVERNANCE", until });

          // a locked version cannot be deleted; a plain DELETE only adds a delete marker
          const e = await caught(s.deleteVersion!("snapshots/one", put.versionId!));
          expect(e.kind).toBe("refused");
          expect(e.message).toContain(`snapshots/one version ${put.versionId}`);
          await s.delete("snapshots/one");
          expect(await s.head("snapshots/one")).toBeUndefined();
          const versions = await collect(s.listVersions!("snapshots/"));
          expect(versions.map((v) => [v.key, v.deleteMarker, v.isLatest])).toEqual([
            ["snapshots/one", true, true],
            ["snapshots/one", false, false],
          ]);
          expect(versions[1].versionId).toBe(put.versionId);
          // removing the marker brings the object back, intact
          await s.deleteVersion!("snapshots/one", versions[0].versionId);
          expect(Buffer.from(await s.get("snapshots/one")).equals(body)).toBe(true);

          // retention can be extended
          const later = new Date(until.getTime() + 86_400_000);
          await s.setRetention!("snapshots/one", { mode: "GOVERNANCE", until: later }, put.versionId);
          expect(await s.retention!("snapshots/one", put.versionId)).toEqual({ mode: "GOVERNANCE", until: later });

          // a locked multipart upload sends Content-MD5 with every part
          const big = randomBytes(6 * MiB);
          await s.put("packs/big", big, { lockUntil: until, lockMode: "GOVERNANCE" });
          const parts = proxy.requests.filter((r) => r.method === "PUT" && r.url.includes("packs/big") && r.url.includes("partNumber="));
          expect(parts).toHaveLength(2);
          expect(parts.every((p) => typeof p.headers["content-md5"] === "string")).toBe(true);
          expect(await s.retention!("packs/big")).toEqual({ mode: "GOVERNANCE", until });
          expect(Buffer.from(await s.get("packs/big")).equals(big)).toBe(true);
        } finally {
          await proxy.close();
        }
      },
      { objectLock: true, tag: "lock" },
    ));

  it("keeps a COMPLIANCE-locked version even from the bucket's owner", async () => {
    const b = await newBucketUrl({ objectLock: true, tag: "compliance" });
    const s = await openStorage(b.url, s3Options());
    // Locked for a minute: the three requests below must all land while the lock holds (a 5 s lock
    // could run out on a loaded machine, and the delete would then succeed).
    const put = await s.put("snapshots/kept", new Uint8Array(100), { lockUntil: new Date(Date.now() + 60_000) });
    expect(await s.retention!("snapshots/kept")).toMatchObject({ mode: "COMPLIANCE" });
    expect((await caught(s.deleteVersion!("snapshots/kept", put.versionId!))).kind).toBe("refused");
    // shortening COMPLIANCE retention is refused too
    const e = await caught(s.setRetention!("snapshots/kept", { mode: "COMPLIANCE", until: new Date(Date.now() + 1_000) }, put.versionId));
    expect(e.kind).toBe("storage");
    // the bucket stays until the lock runs out (RGW's memstore forgets it when stopped)
    await b.cleanup();
  });

  it("falls back to HEAD-then-PUT on a server without conditional writes, and remembers it", () =>
    withBucket(async ({ url }) => {
      const proxy = await startFaultProxy({ target: process.env.CAIRN_S3_ENDPOINT!, noConditionalWrites: true, record: true });
      try {
        const s = await openStorage(url, s3Options({ endpoint: proxy.url }));
        expect(s.atomicCreate).toBeUndefined();
        expect((await s.put("config", new TextEncoder().encode("first"), { ifNoneMatch: true })).created).toBe(true);
        expect(s.atomicCreate).toBe(false);
        expect((await s.put("config", new TextEncoder().encode("second"), { ifNoneMatch: true })).created).toBe(false);
        expect(Buffer.from(await s.get("config")).toString()).toBe("first");
        // only the first conditional PUT was tried as one
        expect(proxy.requests.filter((r) => r.headers["if-none-match"]).length).toBe(1);
      } finally {
        await proxy.close();
      }
    }));

  it("sends Content-MD5 with batch deletes (Swift's s3api requires it)", () =>
    withBucket(async ({ url }) => {
      const proxy = await startFaultProxy({ target: process.env.CAIRN_S3_ENDPOINT!, record: true });
      try {
        const s = await openStorage(url, s3Options({ endpoint: proxy.url }));
        await s.put("a", new Uint8Array(1));
        await s.put("b", new Uint8Array(1));
        await s.deleteMany!(["a", "b", "never-was"]);
        expect(await collect(s.list(""))).toEqual([]);
        const batch = proxy.requests.find((r) => r.method === "POST" && r.url.includes("?delete"))!;
        expect(batch.headers["content-md5"]).toMatch(/^[A-Za-z0-9+/]{22}==$/);
      } finally {
        await proxy.close();
      }
    }));

  it("creates an Object Lock bucket with a default retention that RGW applies to plain PUTs", () =>
    withBucket(
      async ({ url }) => {
        const s = await openStorage(url, s3Options());
        expect(await s.lockInfo!()).toEqual({ objectLock: true, versioning: "Enabled", defaultRetention: { mode: "GOVERNANCE", days: 1 } });
        const put = await s.put("packs/p", new Uint8Array(10));
        const r = await s.retention!("packs/p");
        expect(r?.mode).toBe("GOVERNANCE");
        expect(r!.until.getTime()).toBeGreaterThan(Date.now() + 23 * 3_600_000);
        expect((await caught(s.deleteVersion!("packs/p", put.versionId!))).kind).toBe("refused");
      },
      { objectLock: true, defaultRetention: { mode: "GOVERNANCE", days: 1 }, tag: "default-lock" },
    ));

  it("completes multipart uploads when every first reply is lost (create, parts, complete)", () =>
    withBucket(async ({ url }) => {
      const proxy = await startFaultProxy({ target: process.env.CAIRN_S3_ENDPOINT!, resetResponse: 1, maxFaultsPerRequest: 1, record: true });
      try {
        const s = await openStorage(url, s3Options({ endpoint: proxy.url, multipartThreshold: 5 * MiB, partSize: 5 * MiB, retryBaseDelayMs: 1 }));
        const body = randomBytes(11 * MiB);
        expect((await s.put("packs/big", body)).created).toBe(true);
        expect((await s.put("packs/big-new", body, { ifNoneMatch: true })).created).toBe(true);
        const completes = proxy.requests.filter((r) => r.method === "POST" && r.url.includes("packs/big?uploadId="));
        expect(completes).toHaveLength(2); // the first one's reply was cut, then retried
        const direct = await openStorage(url, s3Options());
        expect(Buffer.from(await direct.get("packs/big")).equals(body)).toBe(true);
        expect(Buffer.from(await direct.get("packs/big-new")).equals(body)).toBe(true);
        // the retried CreateMultipartUpload left an upload behind: exactly what the clean-up is for
        expect(await direct.abortStaleMultipartUploads!(new Date(Date.now() + 60_000))).toBe(2);
      } finally {
        await proxy.close();
      }
    }));

  it("runs the fault proxy in a child process, serving while the test blocks in spawnSync", async () => {
    const proxy = await spawnFaultProxy({ target: process.env.CAIRN_S3_ENDPOINT!, slowDown: 1, maxFaultsPerRequest: 1 });
    try {
      const status = () => spawnSync("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", `${proxy.url}/`]).stdout.toString();
      expect(status()).toBe("503"); // SlowDown, once
      expect(status()).toBe("200"); // then RGW's answer (an anonymous ListBuckets)
      expect(await proxy.stats()).toEqual({ requests: 2, slowDowns: 1, requestResets: 0, responseResets: 0 });
    } finally {
      await proxy.close();
    }
  });
});

describe.skipIf(!s3Available())("--endpoint and --path-style on the command line", () => {
  it("reach RGW with no endpoint in the environment, are listed in --help, and refuse a bad URL (exit 2)", () =>
    withBucket(async ({ url, env }) => {
      const endpoint = env.CAIRN_S3_ENDPOINT;
      const noEndpoint = { ...env, CAIRN_S3_ENDPOINT: "", AWS_ENDPOINT_URL: "", AWS_ENDPOINT_URL_S3: "", CAIRN_S3_PATH_STYLE: "", CAIRN_S3_MAX_ATTEMPTS: "1" };
      const dir = tempDir("cairn-endpoint-");
      try {
        const opts = { cwd: dir.path, env: { ...noEndpoint, CAIRN_WRITERS: `${dir.path}/writers`, CAIRN_CACHE: `${dir.path}/cache` } };
        const init = cairn(["init", "--endpoint", endpoint, url, "--owner-key", "owner.key", "--writer-key", "writer.key"], opts);
        expect(init.stderr).toMatch(/^cairn-init: created repository [0-9a-f]{16} at s3:\/\//);
        expect(init.status).toBe(0);
        const backup = sh(`echo hi > f && cairn backup -k writer.key --endpoint=${endpoint} ${url} f`, opts);
        expect(backup.stderr).toBe("");
        expect(backup.status).toBe(0);
        const ls = cairn(["ls", "--json", `--endpoint=${endpoint}`, "--path-style", url], opts);
        expect(ls.stderr).toBe("");
        expect(ls.stdout.toString().trim().split("\n")).toHaveLength(1);
        const restored = cairn(["restore", "--endpoint", endpoint, "-i", "owner.key", url, "latest", "f", "--stdout"], opts);
        expect(restored.stdout.toString()).toBe("hi\n");
        const bad = cairn(["ls", "--endpoint", "ftp://x", url], opts);
        expect(bad.status).toBe(2);
        expect(bad.stderr).toBe("cairn-ls: --endpoint needs an http:// or https:// URL, got ftp://x\n");
        // The same check for the environment, which is read deeper down (it gave a TypeError, 16).
        const badEnv = cairn(["ls", url], { ...opts, env: { ...opts.env, CAIRN_S3_ENDPOINT: "127.0.0.1:7480" } });
        expect(badEnv.status).toBe(2);
        expect(badEnv.stderr).toBe("cairn-ls: CAIRN_S3_ENDPOINT needs an http:// or https:// URL, got 127.0.0.1:7480\n");
        for (const tool of [["ls"], ["restore"], ["key", "recover"]]) expect(cairn([...tool, "--help"]).stdout.toString()).toMatch(/--endpoint=<URL>[\s\S]*--path-style/);
      } finally {
        dir.cleanup();
      }
    }));
});
