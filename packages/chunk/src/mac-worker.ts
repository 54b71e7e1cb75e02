import { createHmac } from "node:crypto";
import { Worker } from "node:worker_threads";
import { CairnError } from "@cairn/errors";

// The worker's whole program: MAC a buffer from an offset on, hand the buffer back with the MAC.
// Buffers move both ways by transfer, never by copy.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { createHmac } = require("node:crypto");
parentPort.on("message", (m) => {
  if (m === "close") return parentPort.close(); // nothing left to do: the thread ends
  const { buffer, offset } = m;
  const mac = createHmac("sha256", workerData).update(new Uint8Array(buffer, offset)).digest();
  const out = new Uint8Array(32);
  out.set(mac);
  parentPort.postMessage({ buffer, mac: out.buffer }, [buffer, out.buffer]);
});
`;

/** Buffers smaller than this are MACed on the calling thread: a round trip would cost more. */
const WORKER_MIN = 16 * 1024;

/**
 * HMAC-SHA256 under one key (the id key) on a worker thread, so that on a machine with two cores
 * the MAC of a chunk runs beside the rest of the stage. Results come back in submission order.
 */
export class MacWorker {
  private worker: Worker | undefined;
  private readonly waiting: { resolve: (r: { bytes: Uint8Array; mac: Buffer }) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | undefined;
  /** Resolves when the worker's thread has exited. */
  private gone: Promise<void> = Promise.resolve();

  constructor(private readonly key: Uint8Array) {}

  /**
   * HMAC-SHA256(key, bytes[offset…]). A buffer that owns its memory travels to the worker and
   * back: use the `bytes` of the result (the same memory, a new view), never the argument again.
   */
  mac(bytes: Uint8Array, offset: number): Promise<{ bytes: Uint8Array; mac: Buffer }> {
    if (this.failure) return Promise.reject(this.failure);
    const owns = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
    if (!owns || bytes.length - offset < WORKER_MIN) {
      return Promise.resolve({ bytes, mac: createHmac("sha256", this.key).update(bytes.subarray(offset)).digest() });
    }
    const worker = this.start();
    if (this.waiting.length === 0) worker.ref();
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      const buffer = bytes.buffer as ArrayBuffer;
      worker.postMessage({ buffer, offset }, [buffer]);
    });
  }

  /** Stops the worker; results still pending are rejected. Resolves once the thread is gone (see Cutter.close). */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.fail(new CairnError("failed", "the MAC worker was stopped"));
    if (worker) {
      worker.ref();
      worker.postMessage("close");
      await this.gone;
    }
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: this.key });
    worker.on("message", ({ buffer, mac }: { buffer: ArrayBuffer; mac: ArrayBuffer }) => {
      this.waiting.shift()?.resolve({ bytes: Buffer.from(buffer), mac: Buffer.from(mac) });
      if (this.waiting.length === 0 && this.worker === worker) worker.unref(); // a closing worker stays ref'd until it exits
    });
    worker.on("error", (err) => this.fail(new CairnError("failed", `the MAC worker failed: ${err.message}`)));
    this.gone = new Promise((resolve) =>
      worker.on("exit", (code) => {
        if (this.worker === worker) this.fail(new CairnError("failed", `the MAC worker exited (code ${code})`));
        resolve();
      }),
    );
    this.worker = worker;
    return worker;
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiting.splice(0)) w.reject(err);
  }
}
