// The deterministic inputs of the chunking test vectors (docs/chunking.md, "Test vectors").
// Plain TypeScript that Node runs directly (type stripping), shared by generate.ts and the tests.
import { createCipheriv, createHash } from "node:crypto";

export type InputSpec =
  | { kind: "chacha20"; seed: string; length: number }
  | { kind: "zeros"; length: number }
  | { kind: "period251"; length: number };

/**
 * chacha20: the ChaCha20 keystream (RFC 8439 block function) under key SHA-256(UTF-8 seed),
 * a zero 12-byte nonce and block counter 0, i.e. ChaCha20 encryption of `length` zero bytes.
 * zeros: `length` zero bytes. period251: byte i is i mod 251.
 */
export function makeInput(spec: InputSpec): Uint8Array {
  switch (spec.kind) {
    case "chacha20": {
      const key = createHash("sha256").update(spec.seed, "utf8").digest();
      // OpenSSL's chacha20 IV is the 32-bit little-endian block counter followed by the 96-bit nonce.
      const cipher = createCipheriv("chacha20", key, Buffer.alloc(16));
      return new Uint8Array(cipher.update(Buffer.alloc(spec.length)));
    }
    case "zeros":
      return new Uint8Array(spec.length);
    case "period251": {
      const out = new Uint8Array(spec.length);
      for (let i = 0; i < out.length; i++) out[i] = i % 251;
      return out;
    }
  }
}
