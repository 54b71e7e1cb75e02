import { createHmac } from "node:crypto";
import { Worker } from "node:worker_threads";
import { CairnError } from "@cairn/errors";
import { ID_SIZE } from "./chunk-id.js";

// The worker's whole program: MAC bytes 32… of each buffer it is handed, write the id into bytes
// 0…31, hand the buffer back. Buffers move both ways by transfer, never by copy.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { createHmac } = require("node:crypto");
parentPort.on("message", (buffer) => {
  const bytes = new Uint8Array(buffer);
  createHmac("sha256", workerData).update(bytes.subarray(${ID_SIZE})).digest().copy(bytes, 0);
  parentPort.postMessage(buffer, [buffer]);
});
`;

/** Chunks smaller than this get their id on the calling thread: a round trip would cost more. */
const WORKER_MIN = 16 * 1024;

/**
 * Computes chunk ids (HMAC-SHA256 under the id key) on a worker thread, so that on a machine
 * with two cores the MAC runs beside the cut-point search. Results come back in submission order.
 */
export class IdWorker {
  private worker: Worker | undefined;
  private readonly waiting: { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | undefined;

  constructor(private readonly idKey: Uint8Array) {}

  /**
   * `payload` is a CHUNK frame's payload: 32 bytes for the id, then the plaintext. Resolves to the
   * same bytes with the id filled in (a new view if the buffer went to the worker and back).
   */
  submit(payload: Uint8Array): Promise<Uint8Array> {
    if (this.failure) return Promise.reject(this.failure);
    const ownsBuffer = payload.byteOffset === 0 && payload.buffer.byteLength === payload.byteLength && payload.buffer instanceof ArrayBuffer;
    if (payload.length < WORKER_MIN + ID_SIZE || !ownsBuffer) {
      createHmac("sha256", this.idKey).update(payload.subarray(ID_SIZE)).digest().copy(payload, 0);
      return Promise.resolve(payload);
    }
    const worker = this.start();
    if (this.waiting.length === 0) worker.ref();
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      worker.postMessage(payload.buffer, [payload.buffer as ArrayBuffer]);
    });
  }

  /** Stops the worker (pending results are rejected). */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.fail(new CairnError("failed", "the chunk id worker was stopped"));
    if (worker) await worker.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: this.idKey });
    worker.on("message", (buffer: ArrayBuffer) => {
      this.waiting.shift()?.resolve(Buffer.from(buffer));
      if (this.waiting.length === 0) worker.unref();
    });
    worker.on("error", (err) => this.fail(new CairnError("failed", `the chunk id worker failed: ${err.message}`)));
    worker.on("exit", (code) => {
      if (this.worker === worker) this.fail(new CairnError("failed", `the chunk id worker exited (code ${code})`));
    });
    this.worker = worker;
    return worker;
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiting.splice(0)) w.reject(err);
  }
}
