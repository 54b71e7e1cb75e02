// @cairn/restore: `pull | seal -d | chunk -d | snapshot -x` in one process. The same library
// stages as the pipeline, chained as async iterables: frames pass in memory, never encoded or
// decoded between stages. pull → seal -d run on a worker thread of their own (chunked-worker.ts),
// whose CHUNK payloads move (not copy) to the main thread; chunk -d runs there, lending its
// window's memory to the DATA frames the files are written from.
import type { Frame } from "@cairn/protocol";
import { framesFromWorker } from "@cairn/backup";
import { dechunkStream } from "@cairn/chunk";
import { CHUNKED_WORKER } from "./chunked-worker.js";
import type { RestoreOptions } from "./chunked-stream.js";

export { includePatterns } from "./paths.js";
export { chunkedStreamHere, type RestoreOptions } from "./chunked-stream.js";

/** pull → seal -d on a worker thread, then chunk -d here: the plain stream of the snapshot `selector` names. */
export function plainStream(url: string, selector: string, opts: RestoreOptions): AsyncIterable<Frame> {
  const chunked = framesFromWorker(CHUNKED_WORKER, { url, selector, opts }, "restore");
  // seal -d (unseal, on the worker) opens a chunk only if its plaintext matches its id under the
  // pinned id key, and its frames reach this thread in memory: chunk -d need not check it again
  // here (as it must when it reads a stream from a pipe).
  return dechunkStream(chunked, { idKey: opts.idKey, idsChecked: true });
}
