// The cutting thread of the `chunk` stage (cutter.ts): FastCDC over each entry's bytes as they
// arrive in segments, each finished chunk copied into a CHUNK payload (id, then plaintext) and
// its id computed, so that the stage's own thread only decodes, copies in and frames.
import { parentPort, workerData } from "node:worker_threads";
import { ID_SIZE, chunkId } from "./chunk-id.js";
import { FastCdc } from "./fastcdc.js";
import type { ChunkerParams } from "./params.js";

export interface CutInit {
  idKey: Uint8Array;
  chunkerSecret: Uint8Array;
  params: ChunkerParams;
}

/** The next `length` bytes of the current entry; `final` ends the entry. */
export interface Segment {
  buffer: ArrayBuffer;
  length: number;
  final: boolean;
}

/**
 * The chunks a segment finished (CHUNK payloads, in order) and the segments no chunk needs any
 * more. `unhashed`: the positions in `chunks` whose id is left to the stage's thread (cutter.ts).
 */
export interface Cuts {
  chunks: ArrayBuffer[];
  spares: ArrayBuffer[];
  unhashed: number[];
}

/**
 * This thread computes the id of every other chunk and leaves the rest to the stage's thread.
 * With node:zlib's CRC-32 replaced (docs/benchmarks/protocol.md) the stage's thread did ~1.2
 * CPU-s per GiB and this one ~2.3 (FastCDC, copies, HMAC): sharing the HMAC evens them out
 * (docs/benchmarks/chunk.md).
 */
export const HASH_HERE_EVERY = 2;

export class EntryCutter {
  private readonly cdc: FastCdc;
  /** The chunk in progress: tails of earlier segments (their buffers are kept until it ends). */
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  /** Chunks made so far in the stream: which ids this thread computes. */
  private made = 0;

  constructor(private readonly init: CutInit) {
    this.cdc = new FastCdc(init.chunkerSecret, init.params);
  }

  cut(segment: Segment): Cuts {
    const bytes = new Uint8Array(segment.buffer, 0, segment.length);
    const chunks: ArrayBuffer[] = [];
    const spares: ArrayBuffer[] = [];
    const unhashed: number[] = [];
    let from = 0;
    const emit = (to: number) => {
      // Every byte is written below (the id last), so the buffer need not be zeroed.
      const out: Uint8Array = Buffer.allocUnsafeSlow(ID_SIZE + this.heldBytes + to - from);
      let at = ID_SIZE;
      for (const piece of this.held) {
        out.set(piece, at);
        at += piece.length;
        spares.push(piece.buffer as ArrayBuffer);
      }
      out.set(bytes.subarray(from, to), at);
      if (this.made++ % HASH_HERE_EVERY === 0) out.set(chunkId(this.init.idKey, out.subarray(ID_SIZE)), 0);
      else unhashed.push(chunks.length);
      chunks.push(out.buffer as ArrayBuffer);
      this.held = [];
      this.heldBytes = 0;
      from = to;
    };
    for (const cut of this.cdc.push(bytes)) emit(cut);
    if (segment.final) {
      if (this.cdc.finish() > 0) emit(segment.length);
    } else if (from < segment.length) {
      this.held.push(bytes.subarray(from));
      this.heldBytes += segment.length - from;
      return { chunks, spares, unhashed };
    }
    spares.push(segment.buffer);
    return { chunks, spares, unhashed };
  }
}

const port = parentPort;
if (port && workerData?.cutter) {
  const cutter = new EntryCutter(workerData.cutter as CutInit);
  port.on("message", (segment: Segment | "close") => {
    if (segment === "close") return port.close(); // nothing left to do: the thread ends
    const cuts = cutter.cut(segment);
    port.postMessage(cuts, [...cuts.chunks, ...cuts.spares]);
  });
}
