// The `chunk` stage's hand-off to its cutting thread (cut-worker.ts): an entry's bytes are copied
// into 2 MiB segments that move to the worker and back (transferred, never copied), and the
// chunks each segment finished come back in order. A small entry is cut and hashed here: a round
// trip to the worker would cost more than the work. The worker leaves every other chunk's id to
// this thread (cut-worker.ts, HASH_HERE_EVERY).
import { ID_SIZE, chunkId } from "./chunk-id.js";
import type { CutInit, Cuts, Segment } from "./cut-worker.js";
import { OrderedWorker } from "./ordered-worker.js";

// src/ and dist/ are siblings: from either, the compiled worker is in ../dist/.
const CUT_WORKER = new URL("../dist/cut-worker.js", import.meta.url);

/** Writes the id of a CHUNK payload's plaintext (after the id) into its first ID_SIZE bytes. */
function setId(idKey: Uint8Array, payload: Uint8Array): void {
  payload.set(chunkId(idKey, payload.subarray(ID_SIZE)), 0);
}

export const SEGMENT_BYTES = 2 * 1024 * 1024;
/** An entry smaller than this (and than the minimum chunk size) is one chunk, made on this thread. */
const LOCAL_MAX = 64 * 1024;
/** Spare segments kept for reuse. */
const SPARES = 4;

export class Cutter {
  private readonly worker: OrderedWorker<Cuts>;
  private readonly spares: ArrayBuffer[] = [];
  private segment: Uint8Array | undefined;
  private filled = 0;
  /** Segments of the current entry already sent (so it is not a small entry any more). */
  private sentOfEntry = 0;

  constructor(private readonly init: CutInit) {
    // execArgv: [] so a test runner's resolve conditions (TypeScript sources) do not reach the
    // worker, which runs the compiled code.
    this.worker = new OrderedWorker<Cuts>("chunking worker", CUT_WORKER, { workerData: { cutter: init }, execArgv: [] }, ({ spares }) => {
      for (const spare of spares) if (this.spares.length < SPARES && spare.byteLength === SEGMENT_BYTES) this.spares.push(spare);
    });
  }

  /** Segments at the worker whose chunks have not come back. */
  get inFlight(): number {
    return this.worker.pending;
  }

  /** Copies the next bytes of the current entry in; returns the results of segments it filled and sent. */
  add(data: Uint8Array): Promise<Uint8Array[]>[] {
    const sent: Promise<Uint8Array[]>[] = [];
    let at = 0;
    while (at < data.length) {
      this.segment ??= this.take();
      const n = Math.min(data.length - at, SEGMENT_BYTES - this.filled);
      this.segment.set(data.subarray(at, at + n), this.filled);
      this.filled += n;
      at += n;
      if (this.filled === SEGMENT_BYTES) sent.push(this.send(false));
    }
    return sent;
  }

  /** Ends the current entry: the result holds its last chunks (none for an empty entry). */
  finish(): Promise<Uint8Array[]> {
    if (this.sentOfEntry === 0) {
      const length = this.filled;
      if (length === 0) return Promise.resolve([]);
      if (length < LOCAL_MAX && length < this.init.params.min) {
        const out: Uint8Array = Buffer.allocUnsafe(ID_SIZE + length);
        out.set(this.segment!.subarray(0, length), ID_SIZE);
        setId(this.init.idKey, out);
        this.filled = 0;
        return Promise.resolve([out]);
      }
    }
    const last = this.send(true);
    this.sentOfEntry = 0;
    return last;
  }

  /** Stops the worker; results still pending are rejected. Resolves once the thread is gone. */
  close(): Promise<void> {
    return this.worker.close();
  }

  private async send(final: boolean): Promise<Uint8Array[]> {
    const segment = this.segment ?? this.take();
    const message: Segment = { buffer: segment.buffer as ArrayBuffer, length: this.filled, final };
    this.segment = undefined;
    this.filled = 0;
    this.sentOfEntry++;
    const { chunks, unhashed } = await this.worker.post(message, [message.buffer]);
    const payloads = chunks.map((c) => new Uint8Array(c));
    for (const i of unhashed) setId(this.init.idKey, payloads[i]);
    return payloads;
  }

  private take(): Uint8Array {
    return new Uint8Array(this.spares.pop() ?? new ArrayBuffer(SEGMENT_BYTES));
  }
}
