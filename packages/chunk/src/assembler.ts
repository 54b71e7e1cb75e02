import { ID_SIZE } from "./chunk-id.js";

/**
 * Gathers the pieces of one chunk as they arrive (a chunk usually spans several DATA frames) and
 * hands the chunk over as a CHUNK frame's payload: room for the 32-byte id, then the plaintext.
 */
export class ChunkAssembler {
  private pieces: Uint8Array[] = [];
  size = 0;

  add(piece: Uint8Array): void {
    if (piece.length === 0) return;
    this.pieces.push(piece);
    this.size += piece.length;
  }

  /** The payload (id bytes still unset), in a buffer of its own; resets for the next chunk. */
  take(): Uint8Array {
    // allocUnsafe: every byte is written below or by the id; large sizes get their own ArrayBuffer,
    // which the id worker needs to take the buffer by transfer.
    const out = Buffer.allocUnsafe(ID_SIZE + this.size);
    let at = ID_SIZE;
    for (const piece of this.pieces) {
      out.set(piece, at);
      at += piece.length;
    }
    this.pieces = [];
    this.size = 0;
    return out;
  }
}
