import { createHmac, type Hmac } from "node:crypto";
import { ID_SIZE } from "./chunk-id.js";

/**
 * Gathers the pieces of one chunk as they arrive (a chunk usually spans several DATA frames),
 * MACing them on the way, and hands the chunk over as its id and one contiguous buffer.
 */
export class ChunkAssembler {
  private pieces: Uint8Array[] = [];
  private hmac: Hmac | undefined;
  size = 0;

  constructor(private readonly idKey: Uint8Array) {}

  add(piece: Uint8Array): void {
    if (piece.length === 0) return;
    (this.hmac ??= createHmac("sha256", this.idKey)).update(piece);
    this.pieces.push(piece);
    this.size += piece.length;
  }

  /** The finished chunk's id (HMAC-SHA256(id key, plaintext)); call payload() or drop() next. */
  id(): Buffer {
    return (this.hmac ?? createHmac("sha256", this.idKey)).digest();
  }

  /** A CHUNK frame's payload: the id, then the plaintext. Resets for the next chunk. */
  payload(id: Uint8Array): Uint8Array {
    const out = Buffer.allocUnsafe(ID_SIZE + this.size);
    out.set(id, 0);
    let at = ID_SIZE;
    for (const piece of this.pieces) {
      out.set(piece, at);
      at += piece.length;
    }
    this.drop();
    return out;
  }

  /** Forgets the chunk (it went out as a reference). */
  drop(): void {
    this.pieces = [];
    this.hmac = undefined;
    this.size = 0;
  }
}
