import { createHmac } from "node:crypto";

/** A chunk's id: HMAC-SHA256(id key, plaintext) (docs/chunking.md, "Chunk ids"). */
export function chunkId(idKey: Uint8Array, data: Uint8Array): Buffer {
  return createHmac("sha256", idKey).update(data).digest();
}

export const ID_SIZE = 32;
