// The storage contract, one test body for both stores: a local folder and a real S3 server
// (Ceph RGW, started by scripts/test.sh). Whatever the repository relies on must hold for both.
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { CairnError } from "@cairn/errors";
import { openStorage, type Storage, type StorageOptions } from "@cairn/storage";
import { tempDir } from "./helpers/cli.js";
import { newBucketUrl, s3Available, s3Options } from "./helpers/s3.js";

const MiB = 1024 * 1024;

interface Store {
  name: string;
  skip: boolean;
  /** A fresh, empty store of this kind, and how to remove it. */
  open(opts?: StorageOptions): Promise<{ storage: Storage; cleanup: () => Promise<void> }>;
}

const stores: Store[] = [
  {
    name: "folder",
    skip: false,
    async open(opts) {
      const dir = tempDir("cairn-storage-");
      return { storage: await openStorage(pathToFileURL(dir.path).href, opts), cleanup: async () => dir.cleanup() };
    },
  },
  {
    name: "S3 (Ceph RGW)",
    skip: !s3Available(),
    async open(opts) {
      const bucket = await newBucketUrl({ tag: "storage" });
      return { storage: await openStorage(bucket.url, s3Options(opts)), cleanup: bucket.cleanup };
    },
  },
];

async function withStore(store: Store, fn: (s: Storage) => Promise<void>, opts?: StorageOptions): Promise<void> {
  const { storage, cleanup } = await store.open(opts);
  try {
    await fn(storage);
  } finally {
    await cleanup();
  }
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function concat(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  return Buffer.concat(await collect(it));
}

/** Runs fn over items with at most `limit` in flight. */
async function parallel<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

async function caught(p: Promise<unknown> | (() => Promise<unknown>)): Promise<CairnError> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(CairnError);
    return err as CairnError;
  }
  throw new Error("expected a CairnError, got success");
}

const bytes = (s: string) => new TextEncoder().encode(s);

describe.each(stores)("storage contract: $name", (store) => {
  it.skipIf(store.skip)("puts, gets whole and by range, heads, lists and deletes an object", () =>
    withStore(store, async (s) => {
      const body = randomBytes(100_000);
      const before = Date.now();
      expect((await s.put("data/ab/abcdef", body)).created).toBe(true);
      expect(Buffer.from(await s.get("data/ab/abcdef")).equals(body)).toBe(true);
      expect(Buffer.from(await s.get("data/ab/abcdef", { offset: 1000, length: 5000 })).equals(body.subarray(1000, 6000))).toBe(true);
      expect((await concat(s.getStream("data/ab/abcdef", { offset: 99_000, length: 1000 }))).equals(body.subarray(99_000))).toBe(true);
      expect((await concat(s.getStream("data/ab/abcdef"))).equals(body)).toBe(true);
      // a range past the end gives what exists
      expect(Buffer.from(await s.get("data/ab/abcdef", { offset: 99_990, length: 100 })).equals(body.subarray(99_990))).toBe(true);
      expect((await s.get("data/ab/abcdef", { offset: 200_000, length: 10 })).length).toBe(0);
      expect((await s.get("data/ab/abcdef", { offset: 10, length: 0 })).length).toBe(0);

      const info = await s.head("data/ab/abcdef");
      expect(info?.size).toBe(body.length);
      expect(info?.key).toBe("data/ab/abcdef");
      // the store's clock, which may differ from ours by a little and has 1 s resolution on S3
      expect(Math.abs(info!.mtime.getTime() - before)).toBeLessThan(60_000);

      await s.put("config", bytes("{}"));
      expect((await collect(s.list(""))).map((o) => [o.key, o.size])).toEqual([
        ["config", 2],
        ["data/ab/abcdef", body.length],
      ]);
      expect((await collect(s.list("data/"))).map((o) => o.key)).toEqual(["data/ab/abcdef"]);
      expect((await collect(s.list("data/ab/abc"))).map((o) => o.key)).toEqual(["data/ab/abcdef"]);
      expect(await collect(s.list("data/ac"))).toEqual([]);

      // overwrite (not conditional) replaces
      await s.put("config", bytes('{"v":2}'));
      expect(Buffer.from(await s.get("config")).toString()).toBe('{"v":2}');

      await s.delete("data/ab/abcdef");
      expect(await s.head("data/ab/abcdef")).toBeUndefined();
      await s.delete("data/ab/abcdef"); // deleting what is gone is fine
      expect((await collect(s.list(""))).map((o) => o.key)).toEqual(["config"]);
    }),
  );

  it.skipIf(store.skip)("lists keys in byte order across nested names, as S3 does", () =>
    withStore(store, async (s) => {
      const keys = ["a/x", "a-b", "a/b/c", "a0", "b", "a/b-c", "A", "é/1", "z/é"];
      for (const k of keys) await s.put(k, bytes(k));
      const expected = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      expect((await collect(s.list(""))).map((o) => o.key)).toEqual(expected);
      expect((await collect(s.list("a/b"))).map((o) => o.key)).toEqual(["a/b-c", "a/b/c"]);
    }),
  );

  it.skipIf(store.skip)("stores an empty object and a streamed body", () =>
    withStore(store, async (s) => {
      await s.put("empty", new Uint8Array(0));
      expect((await s.get("empty")).length).toBe(0);
      expect((await s.head("empty"))?.size).toBe(0);
      async function* parts() {
        for (let i = 0; i < 10; i++) yield new Uint8Array(1000).fill(i);
      }
      await s.put("streamed", parts());
      const got = Buffer.from(await s.get("streamed"));
      expect(got.length).toBe(10_000);
      expect(got[0]).toBe(0);
      expect(got[9999]).toBe(9);
    }),
  );

  it.skipIf(store.skip)("lets exactly one of many concurrent creators win a create-only put", () =>
    withStore(store, async (s) => {
      for (let round = 0; round < 3; round++) {
        const key = `locks/round-${round}`;
        const bodies = Array.from({ length: 16 }, (_, i) => bytes(`writer ${i} of round ${round}`));
        const results = await Promise.all(bodies.map((b) => s.put(key, b, { ifNoneMatch: true })));
        const winners = results.flatMap((r, i) => (r.created ? [i] : []));
        expect(winners).toHaveLength(1);
        expect(Buffer.from(await s.get(key)).toString()).toBe(`writer ${winners[0]} of round ${round}`);
      }
      expect(s.atomicCreate).toBe(true);
      // and a create-only put over an existing object leaves it alone
      expect((await s.put("locks/round-0", bytes("late"), { ifNoneMatch: true })).created).toBe(false);
    }),
  );

  it.skipIf(store.skip)("lists more than 1000 objects across pages, in order, and deletes them in batches", () =>
    withStore(store, async (s) => {
      const keys = Array.from({ length: 1105 }, (_, i) => `packs/${i.toString(16).padStart(4, "0")}`);
      await parallel(keys, 8, (k) => s.put(k, bytes(k)));
      await s.put("zz-after", bytes("x"));
      const listed = await collect(s.list("packs/"));
      expect(listed.map((o) => o.key)).toEqual(keys);
      expect(listed.every((o) => o.size === o.key.length)).toBe(true);
      expect((await collect(s.list(""))).length).toBe(1106);
      await s.deleteMany!(keys.slice(0, 1050));
      expect((await collect(s.list("packs/"))).map((o) => o.key)).toEqual(keys.slice(1050));
    }),
  );

  it.skipIf(store.skip)(
    "uploads an object above the multipart threshold and reads it back whole and by ranges",
    () =>
      withStore(
        store,
        async (s) => {
          const body = randomBytes(12 * MiB);
          await s.put("packs/big-from-buffer", body);
          async function* chunks() {
            for (let i = 0; i < body.length; i += 1 * MiB) yield body.subarray(i, i + 1 * MiB);
          }
          await s.put("packs/big-from-stream", chunks());
          for (const key of ["packs/big-from-buffer", "packs/big-from-stream"]) {
            expect((await s.head(key))?.size).toBe(body.length);
            expect(Buffer.from(await s.get(key)).equals(body)).toBe(true);
            // a range across the first part boundary (parts are at least 5 MiB)
            const r = { offset: 5 * MiB - 100, length: 200 };
            expect(Buffer.from(await s.get(key, r)).equals(body.subarray(r.offset, r.offset + r.length))).toBe(true);
          }
          // a create-only put of a large object that exists is refused without uploading it
          expect((await s.put("packs/big-from-buffer", body, { ifNoneMatch: true })).created).toBe(false);
          expect((await s.put("packs/big-new", body, { ifNoneMatch: true })).created).toBe(true);
          // a streamed body that is not needed is still closed, so its producer can clean up
          let closed = false;
          async function* producer() {
            try {
              yield* chunks();
            } finally {
              closed = true;
            }
          }
          expect((await s.put("packs/big-from-stream", producer(), { ifNoneMatch: true })).created).toBe(false);
          expect(closed).toBe(true);
        },
        { multipartThreshold: 5 * MiB, partSize: 5 * MiB },
      ),
  );

  it.skipIf(store.skip)(
    "leaves nothing behind when a body fails midway, small or multipart",
    () =>
      withStore(
        store,
        async (s) => {
          for (const size of [100_000, 7 * MiB]) {
            async function* failing() {
              for (let sent = 0; sent < size; sent += 1 * MiB) yield randomBytes(Math.min(1 * MiB, size - sent));
              throw new CairnError("upstream", "seal: upstream died");
            }
            const e = await caught(s.put(`packs/broken-${size}`, failing()));
            expect(e.kind).toBe("upstream");
            expect(e.message).toBe("seal: upstream died");
          }
          expect(await collect(s.list(""))).toEqual([]);
          // no multipart upload (S3) or temporary file (folder) is left to clean up
          expect(await s.abortStaleMultipartUploads!(new Date(Date.now() + 3_600_000))).toBe(0);
        },
        { multipartThreshold: 5 * MiB, partSize: 5 * MiB },
      ),
  );

  it.skipIf(store.skip)("reports a missing object as notFound, naming the object and the store", () =>
    withStore(store, async (s) => {
      const e = await caught(s.get("data/ab/cd0123"));
      expect(e.kind).toBe("notFound");
      expect(e.exitCode).toBe(15);
      expect(e.message).toBe(`object data/ab/cd0123 not found in ${s.url}`);
      expect((await caught(concat(s.getStream("data/ab/cd0123")))).kind).toBe("notFound");
      expect((await caught(s.get("data/ab/cd0123", { offset: 0, length: 10 }))).kind).toBe("notFound");
      expect(await s.head("data/ab/cd0123")).toBeUndefined();
      expect(await collect(s.list("data/"))).toEqual([]);
    }),
  );

  it.skipIf(store.skip)("refuses keys that could escape the repository or mean different things on different stores", () =>
    withStore(store, async (s) => {
      for (const key of ["", "/abs", "a//b", "../up", "a/../b", "a/./b", "a\\b", "trailing/", ".cairn-tmp-x"]) {
        const e = await caught(s.put(key, bytes("x")));
        expect(e.kind, key).toBe("refused");
      }
    }),
  );
});
