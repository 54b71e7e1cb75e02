// The objects of a sealed stream and their SEALED / SEALED_REF payloads (docs/sealing.md,
// "Objects"): `kind u8 | id (32 bytes) | object bytes`, and `kind u8 | id` for a reference.
import { CairnError } from "@cairn/errors";

export const ID_SIZE = 32;

export const ObjectKind = {
  /** A data chunk: an age file whose plaintext is one zstd frame of the chunk; id = HMAC(id key, chunk). */
  DATA: 1,
  /** A manifest chunk: sealed like data; id = HMAC(id key, manifest chunk plaintext). */
  MANIFEST: 2,
  /** The manifest root: the manifest chunk ids in order, sealed like data; id = HMAC of it. */
  MANIFEST_ROOT: 3,
  /** A refs block (clear): sorted unique ids; id = SHA-256 of the bytes. */
  REFS: 4,
  /** The refs root (clear): the refs block ids in order; id = SHA-256 of the bytes. */
  REFS_ROOT: 5,
} as const;

export type ObjectKindCode = (typeof ObjectKind)[keyof typeof ObjectKind];

const names: Record<number, string> = {
  1: "data chunk",
  2: "manifest chunk",
  3: "manifest root",
  4: "refs block",
  5: "refs root",
};

/** "data chunk 3f2a…" — how errors name an object. */
export function objectName(kind: number, id: Uint8Array): string {
  return `${names[kind] ?? `object of kind ${kind}`} ${hex(id)}`;
}

export function hex(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.length).toString("hex");
}

export interface SealedObject {
  kind: number;
  id: Uint8Array;
  /** The stored bytes: an age file (kinds 1–3) or clear bytes (kinds 4–5). Absent for a reference. */
  bytes?: Uint8Array;
}

export function encodeSealed(kind: number, id: Uint8Array, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + ID_SIZE + bytes.length);
  out[0] = kind;
  out.set(id, 1);
  out.set(bytes, 1 + ID_SIZE);
  return out;
}

export function encodeSealedRef(kind: number, id: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + ID_SIZE);
  out[0] = kind;
  out.set(id, 1);
  return out;
}

/** Splits a SEALED or SEALED_REF payload; the payload's length was checked by the frame decoder or is checked here. */
export function decodeSealed(payload: Uint8Array, ref: boolean): SealedObject {
  if (payload.length < 1 + ID_SIZE || (ref && payload.length !== 1 + ID_SIZE)) {
    throw new CairnError("stream", `a ${ref ? "SEALED_REF" : "SEALED"} frame of ${payload.length} bytes is too short for kind + id`);
  }
  const kind = payload[0];
  if (kind < ObjectKind.DATA || kind > ObjectKind.REFS_ROOT) throw new CairnError("stream", `a sealed frame holds an object of unknown kind ${kind}`);
  const id = payload.subarray(1, 1 + ID_SIZE);
  return ref ? { kind, id } : { kind, id, bytes: payload.subarray(1 + ID_SIZE) };
}
