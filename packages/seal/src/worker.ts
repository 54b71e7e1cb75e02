// A sealing worker: re-checks a chunk's id, compresses it, and seals it as an age file under
// the pool's session. Runs in a worker thread (pool.ts); the main thread keeps the order.
import { createHmac, timingSafeEqual } from "node:crypto";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { parentPort, workerData } from "node:worker_threads";
import { sealWithSession, type Session } from "@cairn/age";
import { compressChunk } from "./zstd.js";
import { encodeSealed } from "./objects.js";

export interface WorkerInit {
  session: Session;
  idKey: Uint8Array;
  level: number;
}

export interface Job {
  seq: number;
  kind: number;
  id: Uint8Array;
  data: Uint8Array;
}

export type JobResult = { seq: number; payload: Uint8Array } | { seq: number; mismatch: true } | { seq: number; failure: string };

const init = workerData as WorkerInit;

export function sealJob(job: Job, init: WorkerInit): JobResult {
  const actual = createHmac("sha256", init.idKey).update(job.data).digest();
  if (!timingSafeEqual(actual, job.id)) return { seq: job.seq, mismatch: true };
  const sealed = sealWithSession(init.session, compressChunk(job.data, init.level));
  return { seq: job.seq, payload: encodeSealed(job.kind, job.id, sealed) };
}

// A worker's isolate has a tiny heap, so V8 seldom collects it, while every job leaves megabytes
// of dead buffers behind (moved-in input, compressed frame, sealed file). Collecting after every
// GC_EVERY bytes keeps the process's memory flat (docs/benchmarks/seal.md).
const GC_EVERY = 4 * 1024 * 1024;
setFlagsFromString("--expose-gc");
const collect = runInNewContext("gc") as () => void;
let sinceGc = 0;

if (parentPort) {
  const port = parentPort;
  port.on("message", (job: Job) => {
    sinceGc += job.data.length;
    if (sinceGc >= GC_EVERY) {
      sinceGc = 0;
      collect();
    }
    let result: JobResult;
    try {
      result = sealJob(job, init);
    } catch (err) {
      result = { seq: job.seq, failure: (err as Error).message };
    }
    port.postMessage(result, "payload" in result ? [result.payload.buffer as ArrayBuffer] : []);
  });
}
