// A small real repository for verify/repair tests, and the ways a disk or an attacker damages
// one. Two snapshots: A (older) and B, which shares A's big file and adds a file of its own, so
// the packs B's push wrote hold only objects A does not need ("B-only" packs). Damage goes
// through the Storage interface, so the same code damages a folder and an S3 bucket.
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readOwnerKey, readWriterKey, publicKeyHex } from "@cairn/keys";
import { compressChunk, refsBlocks, signCommit, sha256, type UnsignedCommit } from "@cairn/seal";
import { newSession, sealWithSession } from "@cairn/age";
import {
  ID_SIZE,
  INDEX_PREFIX,
  ObjectKind,
  PACKS_PREFIX,
  PackBuilder,
  encodeCommit,
  encodeIndexFile,
  fromHexId,
  idFromKey,
  indexKey,
  packKey,
  parseSnapshot,
  readPackTrailer,
  snapshotIdOf,
  snapshotKey,
  toHex,
  type PackEntry,
} from "@cairn/repository";
import { openStorage, type Storage } from "@cairn/storage";
import { tempDir } from "./cli.js";
import { cairnA, shA } from "./async-cli.js";

/** Deterministic pseudo-random bytes (SHA-256 in counter mode). */
export function bytes(seed: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0, at = 0; at < length; i++, at += 32) createHash("sha256").update(`${seed}/${i}`).digest().copy(out, at);
  return out;
}

export interface Fixture {
  dir: string;
  env: Record<string, string>;
  /** The base repository's folder (copy it before damaging). */
  repo: string;
  snapA: string;
  snapB: string;
  /** Packs written by B's push: only B needs what they hold. */
  packsB: string[];
  packsA: string[];
  indexB: string[];
  cleanup: () => void;
}

export const PACK_SIZE = 200_000;

export async function buildFixture(): Promise<Fixture> {
  const d = tempDir("cairn-damage-");
  const at = (p: string) => join(d.path, p);
  const env = { CAIRN_WRITERS: at("writers"), CAIRN_CACHE: at("cache"), CAIRN_PASSPHRASE: "", CAIRN_WRITER_KEY: "", CAIRN_OWNER_KEY: "" };
  mkdirSync(at("data"), { recursive: true });
  // Below the 512 KiB minimum chunk size, so one chunk whatever the (random) chunker secret: the
  // packs then always fall the same way (a tail chunk of big.bin shared with B could otherwise
  // share a pack with A's small objects, and A would leave no pack of its own to collect).
  writeFileSync(at("data/big.bin"), bytes("big", 500_000));
  writeFileSync(at("data/conf.txt"), "version = 1\n");
  const repo = at("repo");
  const init = await cairnA(["init", `file://${repo}`, "--owner-key", at("owner.key"), "--writer-key", at("writer.key")], { env });
  if (init.status !== 0) throw new Error(`init failed: ${init.stderr}`);
  const backup = async () => {
    const r = await shA(`cd ${d.path} && cairn backup -k writer.key --pack-size ${PACK_SIZE} --json file://${repo} data`, { env });
    if (r.status !== 0) throw new Error(`backup failed: ${r.stderr}`);
    return JSON.parse(r.stdout.toString()).targets[0].snapshot as string;
  };
  const storage = await openStorage(`file://${repo}`);
  const snapA = await backup();
  const packsA = await keys(storage, PACKS_PREFIX);
  const indexA = await keys(storage, INDEX_PREFIX);
  writeFileSync(at("data/conf.txt"), "version = 2\n");
  writeFileSync(at("data/onlyB.bin"), bytes("onlyB", 300_000));
  const snapB = await backup();
  const packsB = (await keys(storage, PACKS_PREFIX)).filter((p) => !packsA.includes(p));
  const indexB = (await keys(storage, INDEX_PREFIX)).filter((p) => !indexA.includes(p));
  return { dir: d.path, env, repo, snapA, snapB, packsA, packsB, indexB, cleanup: d.cleanup };
}

/** The ids under a prefix (packs/, index/, snapshots/). */
export async function keys(storage: Storage, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of storage.list(prefix)) {
    const id = idFromKey(o.key, prefix);
    if (id) out.push(id);
  }
  return out;
}

/** A private copy of the base repository in a folder. */
export function copyRepo(f: Fixture, name: string): string {
  const to = join(f.dir, name);
  cpSync(f.repo, to, { recursive: true });
  return to;
}

/** Copies every object of one store into another (to put the fixture on S3). */
export async function copyStore(from: Storage, to: Storage): Promise<void> {
  for await (const o of from.list("")) await to.put(o.key, await from.get(o.key));
}

export async function flipByte(storage: Storage, key: string, offset: number): Promise<void> {
  const b = Buffer.from(await storage.get(key));
  b[offset] ^= 0x01;
  await storage.put(key, b);
}

export async function truncate(storage: Storage, key: string, by = 100): Promise<void> {
  const b = await storage.get(key);
  await storage.put(key, b.subarray(0, b.length - by));
}

export async function swap(storage: Storage, a: string, b: string): Promise<void> {
  const x = await storage.get(a);
  const y = await storage.get(b);
  await storage.put(a, y);
  await storage.put(b, x);
}

export async function trailer(storage: Storage, pack: string): Promise<PackEntry[]> {
  const info = await storage.head(packKey(pack));
  return readPackTrailer(storage, pack, info!.size);
}

/** A B-only pack that holds a data chunk, and that entry. */
export async function dataPackOfB(storage: Storage, f: Fixture): Promise<{ pack: string; entry: PackEntry }> {
  for (const pack of f.packsB) {
    const entry = (await trailer(storage, pack)).find((e) => e.kind === ObjectKind.data);
    if (entry) return { pack, entry };
  }
  throw new Error("no B-only pack holds a data chunk");
}

export async function readSnapshot(storage: Storage, id: string) {
  return parseSnapshot(await storage.get(snapshotKey(id)), id);
}

/** Stores a COMMIT as a snapshot object; returns its id. */
export async function plantSnapshot(storage: Storage, commit: Record<string, unknown>): Promise<string> {
  const b = encodeCommit(commit);
  const id = snapshotIdOf(b);
  await storage.put(snapshotKey(id), b);
  return id;
}

/** Re-signs a COMMIT with the fixture's (pinned) writer key: what a compromised or buggy writer can do. */
export async function resign(f: Fixture, commit: Record<string, unknown>): Promise<Record<string, unknown>> {
  const w = await readWriterKey(join(f.dir, "writer.key"));
  const { sig: _sig, ...unsigned } = commit;
  return signCommit(unsigned as unknown as UnsignedCommit, w.signingKey) as unknown as Record<string, unknown>;
}

/** Signs a COMMIT with a fresh key that nobody pinned. */
export function signByStranger(commit: Record<string, unknown>): Record<string, unknown> {
  const { privateKey } = generateKeyPairSync("ed25519");
  const { sig: _sig, ...unsigned } = commit;
  return signCommit({ ...(unsigned as unknown as UnsignedCommit), writer: publicKeyHex(privateKey) }, privateKey) as unknown as Record<string, unknown>;
}

/** Writes objects into a new pack and an index file for it (as push would); returns the pack id. */
export async function addPack(storage: Storage, objects: { kind: number; id: Uint8Array; bytes: Uint8Array }[]): Promise<string> {
  const builder = new PackBuilder();
  for (const o of objects) builder.add(o.kind, o.id, o.bytes);
  const pack = builder.finish();
  await storage.put(packKey(pack.id), pack.bytes);
  const index = encodeIndexFile([{ id: pack.id, size: pack.bytes.length, entries: pack.entries }]);
  await storage.put(indexKey(index.id), index.bytes);
  return pack.id;
}

/**
 * Replaces a data chunk with another plaintext sealed to the repository's public recipients,
 * keeping its id (see replaceObjects): only the keyed id check can tell.
 */
export async function replaceChunk(storage: Storage, f: Fixture, _pack: string, victim: PackEntry): Promise<void> {
  const owner = await readOwnerKey(join(f.dir, "owner.key"));
  const session = await newSession(owner.recipients);
  await replaceObjects(storage, new Map([[toHex(victim.id), sealWithSession(session, compressChunk(bytes("evil", 4096), 3))]]));
}

/**
 * Puts other bytes under some object ids, as someone with write access to the bucket but no key
 * can: each pack holding one is rewritten under its new pack's own name, with new index files in
 * place of those that listed the old pack, so every keyless check still passes.
 */
export async function replaceObjects(storage: Storage, replace: Map<string, Uint8Array>): Promise<void> {
  for (const pack of await keys(storage, PACKS_PREFIX)) {
    const entries = await trailer(storage, pack);
    if (!entries.some((e) => replace.has(toHex(e.id)))) continue;
    const data = await storage.get(packKey(pack));
    await addPack(
      storage,
      entries.map((e) => ({ kind: e.kind, id: e.id, bytes: replace.get(toHex(e.id)) ?? data.subarray(e.offset, e.offset + e.length) })),
    );
    await storage.delete(packKey(pack));
    for (const name of await keys(storage, INDEX_PREFIX)) {
      const b = await storage.get(indexKey(name));
      if (!(await packsIn(b)).includes(pack)) continue;
      const rest = [];
      for (const p of await packsIn(b)) if (p !== pack) rest.push({ id: p, size: (await storage.head(packKey(p)))!.size, entries: await trailer(storage, p) });
      const fresh = encodeIndexFile(rest);
      await storage.put(indexKey(fresh.id), fresh.bytes);
      await storage.delete(indexKey(name));
    }
  }
}

/**
 * What someone who can only PUT to the bucket can add: one pack claiming every object of every
 * pack (the clear refs objects copied, random bytes for the sealed ones), and its index file,
 * both named so that they sort before the real ones (an index that keeps the first copy it lists
 * of an object would take this one, and so would a choice by pack id alone). Nothing real is
 * changed. Returns the pack's id.
 */
export async function plantShadowPack(storage: Storage): Promise<string> {
  const objects: { kind: number; id: Uint8Array; bytes: Uint8Array }[] = [];
  for (const pack of await keys(storage, PACKS_PREFIX)) {
    const data = await storage.get(packKey(pack));
    for (const e of await trailer(storage, pack)) {
      const clear = e.kind === ObjectKind.refsRoot || e.kind === ObjectKind.refsBlock;
      objects.push({ kind: e.kind, id: e.id, bytes: clear ? data.subarray(e.offset, e.offset + e.length) : randomBytes(e.length) });
    }
  }
  const first = (await keys(storage, INDEX_PREFIX)).sort()[0];
  const firstPack = (await keys(storage, PACKS_PREFIX)).sort()[0];
  for (;;) {
    const builder = new PackBuilder();
    for (const o of objects) builder.add(o.kind, o.id, o.kind === ObjectKind.refsRoot || o.kind === ObjectKind.refsBlock ? o.bytes : randomBytes(o.bytes.length));
    const pack = builder.finish();
    const index = encodeIndexFile([{ id: pack.id, size: pack.bytes.length, entries: pack.entries }]);
    if (index.id > first || pack.id > firstPack) continue;
    await storage.put(packKey(pack.id), pack.bytes);
    await storage.put(indexKey(index.id), index.bytes);
    return pack.id;
  }
}

/**
 * A pack planted to claim the data chunks of one real pack (same ids, random bytes: nothing but
 * those copies, so all of it counts once it is the oldest copy) and its index file. Returns its id.
 */
export async function plantChunkCopies(storage: Storage, pack: string): Promise<string> {
  const chunks = (await trailer(storage, pack)).filter((e) => e.kind === ObjectKind.data);
  return addPack(storage, chunks.map((e) => ({ kind: e.kind, id: e.id, bytes: randomBytes(e.length) })));
}

/** The stored bytes of an object, found through the pack trailers. */
export async function objectBytes(storage: Storage, id: string): Promise<Uint8Array> {
  for (const pack of await keys(storage, PACKS_PREFIX)) {
    const e = (await trailer(storage, pack)).find((x) => toHex(x.id) === id);
    if (e) return storage.get(packKey(pack), { offset: e.offset, length: e.length });
  }
  throw new Error(`no pack holds ${id}`);
}

async function packsIn(index: Uint8Array): Promise<string[]> {
  const view = new DataView(index.buffer, index.byteOffset, index.byteLength);
  let at = 8;
  const s = view.getUint32(at);
  at += 4 + s * ID_SIZE;
  const p = view.getUint32(at);
  at += 4;
  const out: string[] = [];
  for (let i = 0; i < p; i++) out.push(toHex(index.subarray(at + i * 36, at + i * 36 + 32)));
  return out;
}

/** The clear reference set of a snapshot, as one sorted array of ids. */
export async function refsSet(storage: Storage, commit: Record<string, any>): Promise<Uint8Array> {
  const { loadIndex, LocalCache, readClearObject } = await import("@cairn/repository");
  const { table } = await loadIndex(storage, new LocalCache(undefined));
  const root = await readClearObject(storage, table, fromHexId(commit.refs), ObjectKind.refsRoot);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < root.length; i += ID_SIZE) parts.push(await readClearObject(storage, table, root.subarray(i, i + ID_SIZE), ObjectKind.refsBlock));
  return Buffer.concat(parts);
}

/** Stores refs blocks and a root for a sorted id set; returns the root's hex id. */
export async function storeRefs(storage: Storage, sorted: Uint8Array): Promise<string> {
  const blocks = refsBlocks(sorted);
  const ids = blocks.map((b) => sha256(b));
  const root = Buffer.concat(ids);
  const rootId = sha256(root);
  await addPack(storage, [...blocks.map((b, i) => ({ kind: ObjectKind.refsBlock, id: ids[i], bytes: b })), { kind: ObjectKind.refsRoot, id: rootId, bytes: root }]);
  return toHex(rootId);
}
