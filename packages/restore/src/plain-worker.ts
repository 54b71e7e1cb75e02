// The worker thread of a fused restore: pull → seal -d → chunk -d (fetching, decrypting,
// decompressing, checking every id) while the main thread writes the files.
import type { Frame } from "@cairn/protocol";
import { openStorage } from "@cairn/storage";
import { serveFrames } from "@cairn/backup";
import { plainStreamHere, type RestoreOptions } from "./plain-stream.js";

export interface PlainJob {
  url: string;
  selector: string;
  opts: RestoreOptions;
}

/** The compiled module (src/ and dist/ are siblings: from either, it is ../dist/plain-worker.js). */
export const PLAIN_WORKER = new URL("../dist/plain-worker.js", import.meta.url);

async function* plainJob(job: PlainJob): AsyncGenerator<Frame> {
  const storage = await openStorage(job.url);
  yield* await plainStreamHere(storage, job.selector, job.opts);
}

serveFrames(import.meta.url, plainJob);
