// The worker thread of a fused restore: pull → seal -d (fetching, decrypting, decompressing,
// checking every id), its CHUNK payloads moved to the main thread, which runs chunk -d and
// writes the files.
import type { Frame } from "@cairn/protocol";
import { openStorage } from "@cairn/storage";
import { serveFrames } from "@cairn/backup";
import { chunkedStreamHere, type RestoreOptions } from "./chunked-stream.js";

export interface ChunkedJob {
  url: string;
  selector: string;
  opts: RestoreOptions;
}

/** The compiled module (src/ and dist/ are siblings: from either, it is ../dist/chunked-worker.js). */
export const CHUNKED_WORKER = new URL("../dist/chunked-worker.js", import.meta.url);

async function* chunkedJob(job: ChunkedJob): AsyncGenerator<Frame> {
  const storage = await openStorage(job.url);
  yield* await chunkedStreamHere(storage, job.selector, job.opts);
}

serveFrames(import.meta.url, chunkedJob);
