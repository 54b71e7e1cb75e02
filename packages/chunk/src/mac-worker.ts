import { chunkId } from "./chunk-id.js";
import { ownedCopy, ownsBuffer } from "@cairn/protocol";
import { OrderedWorker } from "./ordered-worker.js";

// The worker's whole program: MAC a buffer from an offset on, hand the buffer back with the MAC.
// Buffers move both ways by transfer, never by copy.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { createHmac, createSecretKey } = require("node:crypto");
const key = createSecretKey(workerData); // imported once, not per chunk (chunk-id.ts)
parentPort.on("message", (m) => {
  if (m === "close") return parentPort.close(); // nothing left to do: the thread ends
  const { buffer, offset } = m;
  const mac = createHmac("sha256", key).update(new Uint8Array(buffer, offset)).digest();
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
  private readonly worker: OrderedWorker<{ buffer: ArrayBuffer; mac: ArrayBuffer }>;

  constructor(private readonly key: Uint8Array) {
    this.worker = new OrderedWorker("MAC worker", WORKER_SOURCE, { eval: true, workerData: key });
  }

  /**
   * HMAC-SHA256(key, bytes[offset…]). A buffer that owns its memory travels to the worker and
   * back: use the `bytes` of the result (the same memory, a new view), never the argument again.
   */
  async mac(bytes: Uint8Array, offset: number): Promise<{ bytes: Uint8Array; mac: Buffer }> {
    this.worker.check();
    if (bytes.length - offset < WORKER_MIN) {
      return { bytes, mac: chunkId(this.key, bytes.subarray(offset)) };
    }
    // A view into a larger buffer travels as a copy of its own (chunk -d copies such views first).
    if (!ownsBuffer(bytes)) bytes = ownedCopy(bytes);
    const buffer = bytes.buffer as ArrayBuffer;
    const reply = await this.worker.post({ buffer, offset }, [buffer]);
    return { bytes: Buffer.from(reply.buffer), mac: Buffer.from(reply.mac) };
  }

  /** Stops the worker; results still pending are rejected. Resolves once the thread is gone. */
  close(): Promise<void> {
    return this.worker.close();
  }
}
