// Packs (docs/repository.md, "Packs"): sealed objects concatenated, then a clear trailer that
// lists each object's kind, id, offset and length, then the trailer's length (u32 BE). A pack
// describes itself, so the index can be rebuilt from packs alone. Pack id = SHA-256 of all of
// its bytes: the name is also the ciphertext checksum that verify recomputes without a key.
import { createHash } from "node:crypto";
import { CairnError } from "@cairn/errors";
import type { Storage } from "@cairn/storage";
import { ID_SIZE, isObjectKind, toHex } from "./ids.js";
import { packKey } from "./layout.js";

export const PACK_MAGIC = Uint8Array.of(0x63, 0x61, 0x69, 0x72, 0x6e, 0x70, 0x6b, 0x01); // "cairnpk" 0x01
export const PACK_ENTRY_SIZE = 1 + ID_SIZE + 4 + 4;
const TRAILER_FIXED = PACK_MAGIC.length + 4;
/** Offsets and lengths are u32: a pack stays below 4 GiB. */
export const MAX_PACK_BYTES = 0xffffffff;

export interface PackEntry {
  kind: number;
  id: Uint8Array;
  offset: number;
  length: number;
}

export interface FinishedPack {
  id: string;
  bytes: Uint8Array;
  entries: PackEntry[];
}

/**
 * Collects sealed objects into one pack, in arrival order. Each object is copied once, straight
 * into the pack's buffer (so the caller's buffers are never retained), and the buffer is not
 * zero-filled: every byte of the finished pack is written.
 */
export class PackBuilder {
  private buf: Buffer;
  private entries: PackEntry[] = [];
  private size = 0;

  /**
   * `alloc` supplies each pack's buffer (push recycles the buffers of uploaded packs: fresh 32 MiB
   * buffers cost page faults and garbage collection on every pack).
   */
  constructor(
    private readonly capacityHint = 1 << 20,
    private readonly alloc: (size: number) => Buffer = (size) => Buffer.allocUnsafe(size),
  ) {
    this.buf = alloc(capacityHint);
  }

  get objectBytes(): number {
    return this.size;
  }

  get count(): number {
    return this.entries.length;
  }

  add(kind: number, id: Uint8Array, object: Uint8Array): void {
    if (this.size + object.length + TRAILER_FIXED + (this.entries.length + 1) * PACK_ENTRY_SIZE + 4 > MAX_PACK_BYTES) {
      throw new RangeError("pack would exceed 4 GiB");
    }
    this.reserve(this.size + object.length);
    this.buf.set(object, this.size);
    this.entries.push({ kind, id: Uint8Array.from(id), offset: this.size, length: object.length });
    this.size += object.length;
  }

  /** The pack's bytes and id; the builder is empty afterwards. */
  finish(): FinishedPack {
    const trailer = encodeTrailer(this.entries);
    this.reserve(this.size + trailer.length);
    this.buf.set(trailer, this.size);
    const bytes = this.buf.subarray(0, this.size + trailer.length);
    const entries = this.entries;
    this.buf = this.alloc(this.capacityHint);
    this.entries = [];
    this.size = 0;
    return { id: createHash("sha256").update(bytes).digest("hex"), bytes, entries };
  }

  private reserve(n: number): void {
    if (n <= this.buf.length) return;
    const bigger = this.alloc(Math.max(n, this.buf.length * 2));
    bigger.set(this.buf.subarray(0, this.size));
    this.buf = bigger;
  }
}

/** magic | count u32 | entries (kind u8, id, offset u32, length u32) | trailer length u32. */
export function encodeTrailer(entries: PackEntry[]): Uint8Array {
  const body = TRAILER_FIXED + entries.length * PACK_ENTRY_SIZE;
  const out = new Uint8Array(body + 4);
  const view = new DataView(out.buffer);
  out.set(PACK_MAGIC);
  view.setUint32(PACK_MAGIC.length, entries.length);
  let at = TRAILER_FIXED;
  for (const e of entries) {
    out[at] = e.kind;
    out.set(e.id, at + 1);
    view.setUint32(at + 1 + ID_SIZE, e.offset);
    view.setUint32(at + 1 + ID_SIZE + 4, e.length);
    at += PACK_ENTRY_SIZE;
  }
  view.setUint32(body, body);
  return out;
}

/** How many bytes from the end of a pack hold its trailer (read from the last 4 bytes). */
export function trailerSpan(tail: Uint8Array, packSize: number, name: string): number {
  if (tail.length < 4 || packSize < TRAILER_FIXED + 4) throw new CairnError("integrity", `pack ${name} is too short (${packSize} bytes) to hold a trailer`);
  const length = new DataView(tail.buffer, tail.byteOffset + tail.length - 4, 4).getUint32(0);
  if (length < TRAILER_FIXED || length + 4 > packSize || (length - TRAILER_FIXED) % PACK_ENTRY_SIZE !== 0) {
    throw new CairnError("integrity", `pack ${name} has a damaged trailer length (${length}, pack is ${packSize} bytes)`);
  }
  return length + 4;
}

/**
 * Parses a pack's trailer from the pack's last bytes (at least trailerSpan of them) and checks
 * that the objects it lists fill the pack exactly, in order.
 */
export function parseTrailer(tail: Uint8Array, packSize: number, name: string): PackEntry[] {
  const span = trailerSpan(tail, packSize, name);
  if (tail.length < span) throw new RangeError(`need the last ${span} bytes of pack ${name}`);
  const t = tail.subarray(tail.length - span);
  const view = new DataView(t.buffer, t.byteOffset, t.length);
  if (!PACK_MAGIC.every((b, i) => t[i] === b)) {
    // "cairnpk" with another last byte: a later format, not damage (an older build must not move it aside).
    if (t.length >= PACK_MAGIC.length && PACK_MAGIC.subarray(0, -1).every((b, i) => t[i] === b)) {
      throw new CairnError("version", `pack ${name} has trailer format ${t[PACK_MAGIC.length - 1]}; this build reads ${PACK_MAGIC[PACK_MAGIC.length - 1]} (a newer cairn wrote it: use that)`);
    }
    throw new CairnError("integrity", `pack ${name} has no trailer magic: not a cairn pack, or damaged`);
  }
  const count = view.getUint32(PACK_MAGIC.length);
  if (TRAILER_FIXED + count * PACK_ENTRY_SIZE + 4 !== span) throw new CairnError("integrity", `pack ${name}: trailer lists ${count} objects but is ${span} bytes long`);
  const entries: PackEntry[] = [];
  let expect = 0;
  let at = TRAILER_FIXED;
  for (let i = 0; i < count; i++) {
    const kind = t[at];
    const id = t.slice(at + 1, at + 1 + ID_SIZE);
    const offset = view.getUint32(at + 1 + ID_SIZE);
    const length = view.getUint32(at + 1 + ID_SIZE + 4);
    if (!isObjectKind(kind)) throw new CairnError("integrity", `pack ${name}: object ${toHex(id)} has unknown kind ${kind}`);
    if (offset !== expect) throw new CairnError("integrity", `pack ${name}: object ${toHex(id)} is at offset ${offset}, expected ${expect}`);
    entries.push({ kind, id, offset, length });
    expect += length;
    at += PACK_ENTRY_SIZE;
  }
  if (expect !== packSize - span) throw new CairnError("integrity", `pack ${name}: objects end at ${expect}, the trailer starts at ${packSize - span}`);
  return entries;
}

/** Reads a stored pack's trailer with one ranged GET (two when the trailer is large). */
export async function readPackTrailer(storage: Storage, packId: string, packSize: number): Promise<PackEntry[]> {
  const key = packKey(packId);
  const guess = Math.min(packSize, 64 * 1024);
  let tail = await storage.get(key, { offset: packSize - guess, length: guess });
  const span = trailerSpan(tail, packSize, packId);
  if (span > tail.length) tail = await storage.get(key, { offset: packSize - span, length: span });
  return parseTrailer(tail, packSize, packId);
}
