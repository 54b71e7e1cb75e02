// Index files (docs/repository.md, "Index files"): a cache of pack trailers, so a reader learns
// where every object is without reading packs. Compact binary; id = SHA-256 of the bytes.
//
//   magic "cairnix" 0x01
//   u32 S, then S × 32-byte ids of index files this one replaces (prune/repair compaction)
//   u32 P, then P × (32-byte pack id, u32 pack size)
//   u32 N, then N × (kind u8, 32-byte object id, u32 pack ordinal, u32 offset, u32 length),
//          sorted by object id
import { createHash } from "node:crypto";
import { CairnError } from "@cairn/errors";
import { ID_SIZE, compareIds, isObjectKind, toHex } from "./ids.js";
import type { PackEntry } from "./pack.js";

export const INDEX_MAGIC = Uint8Array.of(0x63, 0x61, 0x69, 0x72, 0x6e, 0x69, 0x78, 0x01); // "cairnix" 0x01
const PACK_REC = ID_SIZE + 4;
const OBJECT_REC = 1 + ID_SIZE + 12;

/** One index file, decoded into parallel typed arrays. */
export interface IndexFile {
  supersedes: Uint8Array; // S × 32
  packIds: Uint8Array; // P × 32
  packSizes: Uint32Array;
  kinds: Uint8Array; // N
  ids: Uint8Array; // N × 32, sorted
  packs: Uint32Array; // N: ordinal into packIds
  offsets: Uint32Array;
  lengths: Uint32Array;
}

export interface IndexedPack {
  id: string;
  size: number;
  entries: PackEntry[];
}

/** Encodes the index file for some packs (and the index files it replaces). Returns its id too. */
export function encodeIndexFile(packs: IndexedPack[], supersedes: string[] = []): { id: string; bytes: Uint8Array } {
  const rows: { kind: number; id: Uint8Array; pack: number; offset: number; length: number }[] = [];
  packs.forEach((p, ordinal) => {
    for (const e of p.entries) rows.push({ kind: e.kind, id: e.id, pack: ordinal, offset: e.offset, length: e.length });
  });
  rows.sort((a, b) => compareIds(a.id, 0, b.id, 0) || a.pack - b.pack || a.offset - b.offset);
  const sup = [...new Set(supersedes)].sort();
  const size = INDEX_MAGIC.length + 4 + sup.length * ID_SIZE + 4 + packs.length * PACK_REC + 4 + rows.length * OBJECT_REC;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(INDEX_MAGIC);
  let at = INDEX_MAGIC.length;
  view.setUint32(at, sup.length);
  at += 4;
  for (const s of sup) {
    out.set(Buffer.from(s, "hex"), at);
    at += ID_SIZE;
  }
  view.setUint32(at, packs.length);
  at += 4;
  for (const p of packs) {
    out.set(Buffer.from(p.id, "hex"), at);
    view.setUint32(at + ID_SIZE, p.size);
    at += PACK_REC;
  }
  view.setUint32(at, rows.length);
  at += 4;
  for (const r of rows) {
    out[at] = r.kind;
    out.set(r.id, at + 1);
    view.setUint32(at + 1 + ID_SIZE, r.pack);
    view.setUint32(at + 5 + ID_SIZE, r.offset);
    view.setUint32(at + 9 + ID_SIZE, r.length);
    at += OBJECT_REC;
  }
  return { id: createHash("sha256").update(out).digest("hex"), bytes: out };
}

/** Decodes and checks an index file; `name` (its id) is checked against the bytes' SHA-256. */
export function decodeIndexFile(bytes: Uint8Array, name: string): IndexFile {
  const bad = (why: string) => new CairnError("integrity", `index file ${name} is damaged: ${why}`);
  if (createHash("sha256").update(bytes).digest("hex") !== name) throw bad("its bytes do not hash to its name");
  if (bytes.length >= INDEX_MAGIC.length && INDEX_MAGIC.subarray(0, -1).every((b, i) => bytes[i] === b) && bytes[INDEX_MAGIC.length - 1] !== INDEX_MAGIC[INDEX_MAGIC.length - 1]) {
    throw new CairnError("version", `index file ${name} has format ${bytes[INDEX_MAGIC.length - 1]}; this build reads ${INDEX_MAGIC[INDEX_MAGIC.length - 1]} (a newer cairn wrote it: use that)`);
  }
  if (bytes.length < INDEX_MAGIC.length + 12 || !INDEX_MAGIC.every((b, i) => bytes[i] === b)) throw bad("no index magic");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = INDEX_MAGIC.length;
  const need = (n: number) => {
    if (at + n > bytes.length) throw bad("truncated");
  };
  need(4);
  const s = view.getUint32(at);
  at += 4;
  need(s * ID_SIZE + 4);
  const supersedes = bytes.slice(at, at + s * ID_SIZE);
  at += s * ID_SIZE;
  const p = view.getUint32(at);
  at += 4;
  need(p * PACK_REC + 4);
  const packIds = new Uint8Array(p * ID_SIZE);
  const packSizes = new Uint32Array(p);
  for (let i = 0; i < p; i++) {
    packIds.set(bytes.subarray(at, at + ID_SIZE), i * ID_SIZE);
    packSizes[i] = view.getUint32(at + ID_SIZE);
    at += PACK_REC;
  }
  const n = view.getUint32(at);
  at += 4;
  if (at + n * OBJECT_REC !== bytes.length) throw bad(`it declares ${n} objects but holds ${bytes.length - at} bytes of them`);
  const kinds = new Uint8Array(n);
  const ids = new Uint8Array(n * ID_SIZE);
  const packs = new Uint32Array(n);
  const offsets = new Uint32Array(n);
  const lengths = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    kinds[i] = bytes[at];
    if (!isObjectKind(kinds[i])) throw bad(`object #${i} has unknown kind ${kinds[i]}`);
    ids.set(bytes.subarray(at + 1, at + 1 + ID_SIZE), i * ID_SIZE);
    packs[i] = view.getUint32(at + 1 + ID_SIZE);
    offsets[i] = view.getUint32(at + 5 + ID_SIZE);
    lengths[i] = view.getUint32(at + 9 + ID_SIZE);
    if (packs[i] >= p) throw bad(`object ${toHex(ids.subarray(i * ID_SIZE, (i + 1) * ID_SIZE))} names pack #${packs[i]} of ${p}`);
    if (offsets[i] + lengths[i] > packSizes[packs[i]]) throw bad(`object #${i} lies beyond the end of its pack`);
    if (i > 0 && compareIds(ids, i - 1, ids, i) > 0) throw bad("objects are not sorted by id");
    at += OBJECT_REC;
  }
  return { supersedes, packIds, packSizes, kinds, ids, packs, offsets, lengths };
}
