// A small pool of worker threads for the CPU-heavy part of sealing and opening (both cores),
// with a bound on jobs in flight so that memory stays flat when the output is slow.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { CairnError, type ErrorKind } from "@cairn/errors";
import { CLOSE, type Job, type JobResult } from "./worker-serve.js";
import { roomyOldGeneration } from "./gc.js";

// src/ and dist/ are siblings: from either, the compiled workers are in ../dist/.
export const SEAL_WORKER = new URL("../dist/seal-worker.js", import.meta.url);
export const OPEN_WORKER = new URL("../dist/open-worker.js", import.meta.url);

/** How long stopWorker lets a worker finish its jobs before terminating it. */
const CLOSE_GRACE_MS = 10_000;
const exited = new WeakSet<Worker>();

/** Notes when `worker` ends, so that stopWorker need not wait for it. */
export function watchExit(worker: Worker): Worker {
  worker.once("exit", () => exited.add(worker));
  return worker;
}

/**
 * Asks a pool worker (worker-serve.ts, or one that answers CLOSE the same way) to finish the
 * jobs it was sent and end; resolves once its thread is gone. Not terminate() at once: a thread
 * stopped in the middle of node:zlib's zstd set-up aborts the whole process in Node's clean-up
 * ("close before init"), as a failing run's pool once did. A worker that takes longer than
 * CLOSE_GRACE_MS is terminated all the same.
 */
export function stopWorker(worker: Worker): Promise<void> {
  if (exited.has(worker)) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => void worker.terminate(), CLOSE_GRACE_MS);
    worker.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    worker.postMessage(CLOSE);
  });
}

/** Smallest input buffer allocated (so small jobs share sizes), and spares kept per worker. */
const SPARE_MIN = 64 * 1024;
const SPARES_PER_WORKER = 4;

interface Pending {
  resolve: (payload: Uint8Array) => void;
  reject: (err: Error) => void;
  worker: number;
}

export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly load: number[] = [];
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private failure: Error | undefined;
  private waiters: (() => void)[] = [];
  /** Input buffers the workers handed back, reused for later jobs (fewer large allocations, less GC on this thread). */
  private spares: ArrayBuffer[] = [];
  readonly size: number;
  private readonly heapDone: () => void;

  constructor(
    private readonly script: URL,
    private readonly init: unknown,
    workers?: number,
  ) {
    this.size = Math.max(1, workers ?? Math.min(availableParallelism(), 4));
    this.heapDone = roomyOldGeneration();
  }

  /** Workers start on demand, so a small stream pays for as few thread start-ups as it needs. */
  private spawn(): number {
    // execArgv: [] so a test runner's resolve conditions (TypeScript sources) do not reach the
    // worker, which runs the compiled code. A small young generation makes V8 free the dead
    // buffers of finished jobs soon.
    const worker = new Worker(this.script, { workerData: this.init, execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: 1 } });
    worker.on("message", (r: JobResult) => this.settle(r));
    worker.on("error", (err) => this.fail(new CairnError("failed", `a worker thread died: ${err.message}`)));
    watchExit(worker);
    this.workers.push(worker);
    this.load.push(0);
    return this.workers.length - 1;
  }

  /** Jobs submitted and not yet settled. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Runs a job on the least busy worker; `data` is copied into a buffer of its own and moved there.
   * `handOver`: the caller gives up all of `data`'s ArrayBuffer (`data` may be a view into part of
   * it): that buffer itself is moved, with no copy, and any view of it then reads empty.
   */
  run(kind: number, id: Uint8Array, data: Uint8Array, extra: { size?: number; exact?: boolean } = {}, handOver = false): Promise<Uint8Array> {
    if (this.failure) return Promise.reject(this.failure);
    const seq = this.seq++;
    let w = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.load[i] < this.load[w]) w = i;
    if (this.workers.length < this.size && (this.workers.length === 0 || this.load[w] > 0)) w = this.spawn();
    let own = data;
    if (!handOver || !(data.buffer instanceof ArrayBuffer)) {
      own = this.buffer(data.length);
      own.set(data);
    }
    const job: Job = { seq, kind, id: new Uint8Array(id), data: own, ...extra };
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(seq, { resolve, reject, worker: w });
      this.load[w]++;
      this.workers[w].postMessage(job, [own.buffer as ArrayBuffer]);
    });
  }

  /** A buffer of exactly `n` bytes for a job's input: a view of a spare one when one is big enough. */
  private buffer(n: number): Uint8Array {
    for (let i = this.spares.length - 1; i >= 0; i--) {
      const spare = this.spares[i];
      // A spare much larger than needed stays for a larger job (memory stays proportional).
      if (spare.byteLength >= n && spare.byteLength <= 2 * n + SPARE_MIN) {
        this.spares.splice(i, 1);
        return new Uint8Array(spare, 0, n);
      }
    }
    return new Uint8Array(new ArrayBuffer(Math.max(n, SPARE_MIN)), 0, n);
  }

  /** Resolves once fewer than `limit` jobs are in flight. */
  async below(limit: number): Promise<void> {
    while (this.pending.size >= limit && !this.failure) await new Promise<void>((resolve) => this.waiters.push(resolve));
    if (this.failure) throw this.failure;
  }

  /** Stops the workers (stopWorker): each finishes the jobs it was sent, then its thread ends. */
  async close(): Promise<void> {
    this.heapDone();
    await Promise.all(this.workers.map(stopWorker));
  }

  private settle(r: JobResult): void {
    if (r.spare) {
      if (this.spares.length < SPARES_PER_WORKER * this.size) this.spares.push(r.spare);
      else r.spare.transfer(0); // freed now, not left to the garbage collector
    }
    const p = this.pending.get(r.seq);
    if (!p) return;
    this.pending.delete(r.seq);
    this.load[p.worker]--;
    if ("payload" in r) p.resolve(r.payload);
    else p.reject(new CairnError(r.error.kind as ErrorKind, r.error.message));
    this.wake();
  }

  private fail(err: Error): void {
    this.failure = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
