// The message loop of a pool worker (pool.ts): runs each job, answers with its payload (moved,
// not copied) or with the CairnError it threw, and collects garbage as it goes.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { parentPort } from "node:worker_threads";
import { CairnError } from "@cairn/errors";

export interface Job {
  seq: number;
  kind: number;
  id: Uint8Array;
  data: Uint8Array;
  /** open jobs: the exact plaintext size (data chunks) or the largest allowed (others). */
  size?: number;
  exact?: boolean;
}

export type JobResult = { seq: number; payload: Uint8Array } | { seq: number; error: { kind: string; message: string } };

// A worker's isolate has a tiny heap, so V8 seldom collects it, while every job leaves megabytes
// of dead buffers and native zstd contexts behind. Collecting after every GC_EVERY bytes keeps
// the process's memory flat (docs/benchmarks/seal.md).
const GC_EVERY = 4 * 1024 * 1024;
setFlagsFromString("--expose-gc");
const collect = runInNewContext("gc") as () => void;

export function serve(handle: (job: Job) => Uint8Array | Promise<Uint8Array>): void {
  const port = parentPort;
  if (!port) return;
  let sinceGc = 0;
  port.on("message", async (job: Job) => {
    sinceGc += job.data.length;
    if (sinceGc >= GC_EVERY) {
      sinceGc = 0;
      collect();
    }
    let result: JobResult;
    try {
      result = { seq: job.seq, payload: await handle(job) };
    } catch (err) {
      const kind = err instanceof CairnError ? err.kind : "failed";
      result = { seq: job.seq, error: { kind, message: (err as Error).message ?? String(err) } };
    }
    port.postMessage(result, "payload" in result ? [result.payload.buffer as ArrayBuffer] : []);
  });
}
