import { createHmac } from "node:crypto";

const LABEL = Buffer.from("cairn gear v1", "ascii");

/**
 * The gear table: 256 pseudo-random 32-bit words derived from the chunker secret
 * (docs/chunking.md, "Gear table"). Block k (k = 0…31) is HMAC-SHA256(secret, "cairn gear v1" ‖ u32be(k));
 * the 32 blocks concatenated are 1024 bytes, read as 256 big-endian u32 words. Kept as an Int32Array
 * so the hash stays in V8's small-integer arithmetic.
 */
export function deriveGear(secret: Uint8Array): Int32Array {
  if (secret.length === 0) throw new TypeError("the chunker secret is empty");
  const bytes = Buffer.alloc(1024);
  const counter = Buffer.alloc(4);
  for (let k = 0; k < 32; k++) {
    counter.writeUInt32BE(k);
    createHmac("sha256", secret).update(LABEL).update(counter).digest().copy(bytes, 32 * k);
  }
  const gear = new Int32Array(256);
  for (let i = 0; i < 256; i++) gear[i] = bytes.readInt32BE(4 * i);
  return gear;
}
