import { createHmac, createSecretKey, type KeyObject } from "node:crypto";

const keyObjects = new WeakMap<Uint8Array, KeyObject>();

/**
 * The id key as a KeyObject, made once per key: an HMAC under raw key bytes imports them again
 * on every call, ~35 µs against ~4 µs (docs/benchmarks/age.md), and chunks come by the thousand.
 */
export function idKeyObject(idKey: Uint8Array): KeyObject {
  let key = keyObjects.get(idKey);
  if (!key) keyObjects.set(idKey, (key = createSecretKey(idKey)));
  return key;
}

/** A chunk's id: HMAC-SHA256(id key, plaintext) (docs/chunking.md, "Chunk ids"). */
export function chunkId(idKey: Uint8Array, data: Uint8Array): Buffer {
  return createHmac("sha256", idKeyObject(idKey)).update(data).digest();
}

export const ID_SIZE = 32;
