// Restore order reads packs ahead of the consumer from a store across a network (docs/repository.md,
// "Pull"). The manifest chunk that says what a pack holds usually lies in that pack itself, so
// reading each pack at its turn fetched one pack at a time. A snapshot of three packs in RGW,
// pulled with the owner key through a client whose every GET takes a further round trip, now has
// more than one pack's GETs in flight at once, still reads each stored byte about once, and the
// restore still gives back every byte.
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FrameType } from "@cairn/protocol";
import { openStorage, type Storage } from "@cairn/storage";
import { openSnapshot } from "@cairn/pull";
import { pullOrdered } from "@cairn/pull/ordered";
import { PACKS_PREFIX } from "@cairn/repository";
import { cairn, tempDir } from "./helpers/cli.js";
import { newBucketUrl, s3Available, s3Options, type TestBucket } from "./helpers/s3.js";

const MiB = 1024 * 1024;
const d = tempDir("cairn-ahead-");
const at = (p: string) => join(d.path, p);
let env: Record<string, string>;
let bucket: TestBucket;
const big = randomBytes(96 * MiB);

beforeAll(async () => {
  if (!s3Available()) return;
  bucket = await newBucketUrl({ tag: "ahead" });
  env = { ...bucket.env, CAIRN_WRITERS: at("writers"), CAIRN_CACHE: at("cache"), CAIRN_PASSPHRASE: "", CAIRN_OWNER_KEY: "", CAIRN_WRITER_KEY: "" };
  mkdirSync(at("data"), { recursive: true });
  writeFileSync(at("data/big.bin"), big);
  for (let i = 0; i < 40; i++) writeFileSync(at(`data/small-${i}.txt`), `file ${i}\n`.repeat(100 + i));
  const init = cairn(["init", bucket.url, "--owner-key", at("owner.key"), "--writer-key", at("writer.key")], { env });
  expect(init.status, init.stderr).toBe(0);
  // Packs of the default size: three, each read as a span of two GETs.
  const backup = cairn(["backup", "-k", at("writer.key"), bucket.url, at("data")], { env });
  expect(backup.status, backup.stderr).toBe(0);
});
afterAll(async () => {
  await bucket?.cleanup();
  d.cleanup();
});

/** The store, with a 20 ms round trip per GET, counting GETs in flight at once and bytes read. */
function slow(inner: Storage) {
  let now = 0;
  const seen = { most: 0, bytes: 0 };
  const storage = Object.create(inner) as Storage;
  storage.get = async (key, range) => {
    seen.most = Math.max(seen.most, ++now);
    try {
      await new Promise((r) => setTimeout(r, 20));
      const bytes = await inner.get(key, range);
      seen.bytes += bytes.length;
      return bytes;
    } finally {
      now--;
    }
  };
  return { storage, seen };
}

describe.skipIf(!s3Available())("pull -i reads packs ahead (Ceph RGW)", () => {
  it("has several packs' GETs in flight, reads each stored byte about once, and restores every byte", async () => {
    const inner = await openStorage(bucket.url, s3Options());
    let packs = 0;
    let stored = 0;
    for await (const o of inner.list(PACKS_PREFIX)) {
      packs++;
      stored += o.size;
    }
    expect(packs).toBeGreaterThanOrEqual(3);

    const { storage, seen } = slow(inner);
    const opened = await openSnapshot(storage, "latest", { cache: false });
    const afterOpen = { ...seen };
    let sealed = 0;
    for await (const frame of pullOrdered(storage, opened, { identity: at("owner.key"), paths: [] })) if (frame.type === FrameType.SEALED) sealed++;
    expect(sealed).toBeGreaterThan(packs);
    // One pack at a time (the code before) never had more than its two GETs in flight.
    expect(seen.most).toBeGreaterThanOrEqual(4);
    // Reading whole packs ahead must not read them twice: the manifest root's few bytes are.
    const read = seen.bytes - afterOpen.bytes;
    expect(read).toBeGreaterThanOrEqual(stored * 0.95);
    expect(read).toBeLessThan(stored * 1.05);

    // --jobs 1 reads no pack ahead (less memory): one span's two GETs at a time.
    const one = slow(inner);
    let n = 0;
    for await (const frame of pullOrdered(one.storage, await openSnapshot(one.storage, "latest", { cache: false }), { identity: at("owner.key"), paths: [], jobs: 1 })) if (frame.type === FrameType.SEALED) n++;
    expect(n).toBe(sealed);
    expect(one.seen.most).toBe(2);

    const restore = cairn(["restore", "-i", at("owner.key"), bucket.url, "latest", "-x", at("out")], { env });
    expect(restore.status, restore.stderr).toBe(0);
    const restored = readFileSync(join(at("out"), at("data/big.bin")));
    expect(restored.equals(big)).toBe(true);
    expect(statSync(join(at("out"), at("data/small-7.txt"))).size).toBe("file 7\n".length * 107);
  });
});
