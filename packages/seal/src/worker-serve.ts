// The message loop of a pool worker (pool.ts): runs each job, answers with its payload (moved,
// not copied) or with the CairnError it threw, and collects garbage as it goes.
import { parentPort, type MessagePort } from "node:worker_threads";
import { CairnError } from "@cairn/errors";
import { majorGc, minorGc } from "./gc.js";

/**
 * Job bytes (the larger of input and answer) between collections in a worker. Counted in bytes, not jobs: a tree
 * of small files makes thousands of small chunks, and a collection per job (or per 32) then cost
 * more than the jobs (a fused restore of 2708 files: 150 full collections in the two workers).
 * 32 MiB between full ones keeps a sealing worker's RSS flat over 1 GiB (docs/benchmarks/seal.md);
 * an opening worker, which frees what it allocates as it goes, does with one per 256 MiB
 * (serve's `majorEvery`).
 */
const MINOR_EVERY = 1 << 20;
export const MAJOR_EVERY = 32 << 20;
let sinceMinor = 0;
let sinceMajor = 0;

export interface Job {
  seq: number;
  kind: number;
  id: Uint8Array;
  data: Uint8Array;
  /** open jobs: the exact plaintext size (data chunks) or the largest allowed (others). */
  size?: number;
  exact?: boolean;
}

/** `spare`: the job's input buffer, handed back so the pool can reuse it for a later job. */
export type JobResult = { seq: number; payload: Uint8Array; spare?: ArrayBuffer } | { seq: number; error: { kind: string; message: string }; spare?: ArrayBuffer };

/** The message that asks a worker to end once the jobs sent before it are done (pool.close). */
export const CLOSE = "close";

/**
 * A pool worker's jobs in flight on `port`: once CLOSE has come (close()) and none is left, the
 * port closes, and with nothing else to keep it alive the thread ends.
 */
export function jobsInFlight(port: MessagePort) {
  let pending = 0;
  let closing = false;
  const maybeEnd = () => {
    if (closing && pending === 0) port.close();
  };
  return {
    close: () => ((closing = true), maybeEnd()),
    begin: () => void pending++,
    end: () => (pending--, maybeEnd()),
  };
}

export function serve(handle: (job: Job) => Uint8Array | Promise<Uint8Array>, majorEvery = MAJOR_EVERY): void {
  const port = parentPort;
  if (!port) return;
  const jobs = jobsInFlight(port);
  port.on("message", async (job: Job | typeof CLOSE) => {
    if (job === CLOSE) return jobs.close();
    jobs.begin();
    let result: JobResult;
    try {
      result = { seq: job.seq, payload: await handle(job) };
    } catch (err) {
      const kind = err instanceof CairnError ? err.kind : "failed";
      result = { seq: job.seq, error: { kind, message: (err as Error).message ?? String(err) } };
    }
    // The input buffer goes back to the pool (moved, not copied) unless the answer lies in it.
    const transfer: ArrayBuffer[] = "payload" in result ? [result.payload.buffer as ArrayBuffer] : [];
    const input = job.data.buffer as ArrayBuffer;
    if (!transfer.includes(input)) {
      result.spare = input;
      transfer.push(input);
    }
    const bytes = Math.max(job.data.length, "payload" in result ? result.payload.length : 0);
    port.postMessage(result, transfer);
    // Minor collections free the young garbage of the jobs; what got promoted (and the native
    // memory it holds) needs a full one now and then, or RSS creeps up over a long stream.
    sinceMinor += bytes;
    sinceMajor += bytes;
    if (sinceMajor >= majorEvery) {
      sinceMajor = sinceMinor = 0;
      majorGc();
    } else if (sinceMinor >= MINOR_EVERY) {
      sinceMinor = 0;
      minorGc();
    }
    jobs.end();
  });
}
