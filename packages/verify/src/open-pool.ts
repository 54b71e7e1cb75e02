// Opening objects on worker threads (one per core, at most 4), so that `verify -i --read-data`
// decrypts, decompresses and authenticates on every core. Each job's bytes are copied into a
// buffer of their own and moved to the worker; at most two jobs per worker are in flight, so
// those copies stay a few MiB however many objects the caller hands over at once.
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { CairnError, type ErrorKind } from "@cairn/errors";
import { ownedCopy } from "@cairn/protocol";
import { stopWorker, watchExit } from "@cairn/seal";
import type { OpenAnswer, OpenJob } from "./open-worker.js";

// src/ and dist/ are siblings: from either, the compiled worker is in ../dist/.
const OPEN_WORKER = new URL("../dist/open-worker.js", import.meta.url);

export class OpenPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private seq = 0;
  private readonly limit: number;
  private failure: CairnError | undefined;
  private readonly waiting: (() => void)[] = [];

  private constructor(init: { identities: string[]; idKey: Uint8Array }, size: number) {
    for (let i = 0; i < size; i++) {
      // execArgv: [] so a test runner's TypeScript resolve conditions do not reach the worker.
      // A small young generation makes V8 free each job's buffers soon (as seal's workers do).
      const w = watchExit(new Worker(OPEN_WORKER, { workerData: init, execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: 1 } }));
      w.on("message", (a: OpenAnswer) => {
        const p = this.pending.get(a.seq);
        if (!p) return;
        this.pending.delete(a.seq);
        this.waiting.shift()?.();
        if (a.error) p.reject(new CairnError(a.error.kind as ErrorKind, a.error.message));
        else p.resolve();
      });
      w.on("error", (err) => {
        this.failure = new CairnError("failed", `a worker thread died: ${err.message}`);
        for (const p of this.pending.values()) p.reject(this.failure);
        this.pending.clear();
        for (const wake of this.waiting.splice(0)) wake();
      });
      this.workers.push(w);
    }
    this.limit = 2 * size;
  }

  /** A pool, or undefined where the compiled worker is missing (then objects open in this thread). */
  static create(init: { identities: string[]; idKey: Uint8Array }): OpenPool | undefined {
    if (!existsSync(fileURLToPath(OPEN_WORKER))) return undefined;
    return new OpenPool(init, Math.max(1, Math.min(availableParallelism(), 4)));
  }

  async open(kind: number, id: Uint8Array, bytes: Uint8Array): Promise<void> {
    while (this.pending.size >= this.limit && !this.failure) await new Promise<void>((resolve) => this.waiting.push(resolve));
    if (this.failure) throw this.failure;
    const seq = this.seq++;
    const data = ownedCopy(bytes);
    const job: OpenJob = { seq, kind, id: new Uint8Array(id), data };
    return new Promise<void>((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      this.workers[seq % this.workers.length].postMessage(job, [data.buffer as ArrayBuffer]);
    });
  }

  /** Each worker finishes the objects it was sent, then its thread ends (stopWorker, @cairn/seal). */
  async close(): Promise<void> {
    await Promise.all(this.workers.map(stopWorker));
  }
}
