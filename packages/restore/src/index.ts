// @cairn/restore: `pull | seal -d | chunk -d | snapshot -x` in one process. The same library
// stages as the pipeline, chained as async iterables: frames pass in memory, never encoded or
// decoded between stages. pull → seal -d → chunk -d run on a worker thread of their own
// (plain-worker.ts) while the main thread writes the files.
import type { Frame } from "@cairn/protocol";
import { framesFromWorker } from "@cairn/backup";
import { PLAIN_WORKER } from "./plain-worker.js";
import type { RestoreOptions } from "./plain-stream.js";

export { includePatterns } from "./paths.js";
export { plainStreamHere, type RestoreOptions } from "./plain-stream.js";

/** pull → seal -d → chunk -d: the plain stream of the snapshot `selector` names, made on a worker thread. */
export function plainStream(url: string, selector: string, opts: RestoreOptions): AsyncIterable<Frame> {
  return framesFromWorker(PLAIN_WORKER, { url, selector, opts }, "restore");
}

