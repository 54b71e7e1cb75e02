// A worker thread of open-pool.ts: opens the objects it is sent (open-object.ts) and answers
// with nothing, or with the CairnError's kind and message.
import { parentPort, workerData } from "node:worker_threads";
import { CairnError } from "@cairn/errors";
import { CLOSE_WORKER, jobsInFlight } from "@cairn/seal";
import { objectOpenerHere } from "./open-object.js";

export interface OpenJob {
  seq: number;
  kind: number;
  id: Uint8Array;
  data: Uint8Array;
}

export interface OpenAnswer {
  seq: number;
  error?: { kind: string; message: string };
}

const { identities, idKey } = workerData as { identities: string[]; idKey: Uint8Array };
const open = objectOpenerHere(identities, idKey);
// CLOSE (open-pool's close, stopWorker): end once the objects sent before it are done.
const jobs = parentPort && jobsInFlight(parentPort);
parentPort?.on("message", async (job: OpenJob | typeof CLOSE_WORKER) => {
  if (job === CLOSE_WORKER) return jobs!.close();
  jobs!.begin();
  let answer: OpenAnswer = { seq: job.seq };
  try {
    await open(job.kind, job.id, job.data);
  } catch (err) {
    answer = { seq: job.seq, error: { kind: err instanceof CairnError ? err.kind : "failed", message: (err as Error).message ?? String(err) } };
  }
  parentPort!.postMessage(answer);
  jobs!.end();
});
