// A small pool of worker threads that compress and encrypt chunks (both cores), with a bound
// on jobs in flight so that memory stays flat when the output is slow.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { CairnError } from "@cairn/errors";
import type { Session } from "@cairn/age";
import { objectName } from "./objects.js";
import type { Job, JobResult, WorkerInit } from "./worker.js";

// src/ and dist/ are siblings: from either, the compiled worker is ../dist/worker.js.
const WORKER_URL = new URL("../dist/worker.js", import.meta.url);

interface Pending {
  resolve: (payload: Uint8Array) => void;
  reject: (err: Error) => void;
  kind: number;
  id: Uint8Array;
  worker: number;
}

export interface PoolOptions {
  session: Session;
  idKey: Uint8Array;
  level: number;
  workers?: number;
}

export class SealPool {
  private readonly workers: Worker[];
  private readonly load: number[];
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private failure: Error | undefined;
  private waiters: (() => void)[] = [];
  readonly size: number;

  constructor(opts: PoolOptions) {
    this.size = Math.max(1, opts.workers ?? Math.min(availableParallelism(), 4));
    const init: WorkerInit = { session: opts.session, idKey: opts.idKey, level: opts.level };
    this.workers = [];
    this.load = [];
    for (let w = 0; w < this.size; w++) {
      // execArgv: [] so a test runner's resolve conditions (TypeScript sources) do not reach the
      // worker, which runs the compiled code.
      const worker = new Worker(WORKER_URL, { workerData: init, execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: 1 } });
      worker.on("message", (r: JobResult) => this.settle(r));
      worker.on("error", (err) => this.fail(new CairnError("failed", `a sealing worker died: ${err.message}`)));
      this.workers.push(worker);
      this.load.push(0);
    }
  }

  /** Jobs submitted and not yet settled. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Checks `data` against `id`, compresses and seals it; resolves to the SEALED payload.
   * A wrong id rejects with "integrity" and nothing is sealed.
   */
  seal(kind: number, id: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
    if (this.failure) return Promise.reject(this.failure);
    const seq = this.seq++;
    let w = 0;
    for (let i = 1; i < this.size; i++) if (this.load[i] < this.load[w]) w = i;
    // A fresh buffer of just these bytes, moved to the worker (the frame's buffer may be larger).
    const own = new Uint8Array(data);
    const job: Job = { seq, kind, id: new Uint8Array(id), data: own };
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(seq, { resolve, reject, kind, id: job.id, worker: w });
      this.load[w]++;
      this.workers[w].postMessage(job, [own.buffer as ArrayBuffer]);
    });
  }

  /** Resolves once fewer than `limit` jobs are in flight. */
  async below(limit: number): Promise<void> {
    while (this.pending.size >= limit && !this.failure) await new Promise<void>((resolve) => this.waiters.push(resolve));
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private settle(r: JobResult): void {
    const p = this.pending.get(r.seq);
    if (!p) return;
    this.pending.delete(r.seq);
    this.load[p.worker]--;
    if ("payload" in r) p.resolve(r.payload);
    else if ("mismatch" in r) p.reject(new CairnError("integrity", `${objectName(p.kind, p.id)} does not match its id (the chunk changed between chunk and seal); nothing was sealed`));
    else p.reject(new CairnError("failed", `sealing ${objectName(p.kind, p.id)} failed: ${r.failure}`));
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
