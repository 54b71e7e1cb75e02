// @cairn/backup: `snapshot | chunk | seal | push` in one process. The same library stages as the
// pipeline, chained as async iterables: frames pass in memory, never encoded or decoded between
// stages. Reading and chunking a path or command source run on a worker thread of their own
// (chunk-worker.ts), seal's worker pool compresses and encrypts, the main thread seals the
// manifest and pushes.
import type { Frame } from "@cairn/protocol";
import type { StartOptions } from "@cairn/snapshot";
import { chunkStream, type ChunkerParams } from "@cairn/chunk";
import { KnownIds, seal, type SealingKey } from "@cairn/seal";
import { push, type PushOptions, type PushResult } from "@cairn/push";
import type { Storage } from "@cairn/storage";
import { snapshotSource, type Source } from "./source.js";
import { framesFromWorker } from "./frames-worker.js";
import { CHUNK_WORKER } from "./chunk-worker.js";

export { snapshotSource, type Source } from "./source.js";
export { framesFromWorker, serveFrames } from "./frames-worker.js";

export interface BackupOptions {
  /** The writer key (@cairn/keys readWriterKey): chunk takes its id key and chunker secret, seal the rest. */
  key: SealingKey;
  source: Source;
  start?: StartOptions;
  /** chunk: sizes and reference window. */
  params?: Partial<ChunkerParams>;
  refWindow?: number;
  /**
   * seal: zstd level, worker threads, ids the repositories hold (a known file). Without one,
   * backup() takes the ids every repository's index holds when push opens it.
   */
  level?: number;
  workers?: number;
  known?: KnownIds | Promise<KnownIds>;
  /** push: jobs, cache, pack size, known file out. */
  push?: PushOptions;
  /** Read and chunk on a worker thread (default: yes, for paths and commands; stdin and tar are read here). */
  chunkWorker?: boolean;
}

/**
 * Keeps a source one frame ahead of its consumer, as writeFrames keeps a pipeline's first stage
 * (it asks for the next frame as soon as it has handed one to the pipe). snapshotTar needs it:
 * left waiting right after its START frame (seal takes a moment to start its workers there), it
 * never resumes (reported to the owner of @cairn/snapshot).
 */
async function* readAhead(frames: AsyncIterable<Frame>): AsyncGenerator<Frame> {
  const it = frames[Symbol.asyncIterator]();
  let next = it.next();
  try {
    for (;;) {
      const r = await next;
      if (r.done) return;
      next = it.next();
      yield r.value;
    }
  } finally {
    next.catch(() => {}); // an error of the frame read ahead that nobody asked for
    await it.return?.();
  }
}

/** snapshot → chunk → seal: the sealed stream `push` reads. */
export function sealedStream(opts: BackupOptions): AsyncIterable<Frame> {
  const { source, start, params, refWindow } = opts;
  const { idKey, chunkerSecret } = opts.key;
  const inWorker = (opts.chunkWorker ?? true) && (source.kind === "paths" || source.kind === "command");
  const chunked = inWorker
    ? framesFromWorker(CHUNK_WORKER, { source, start, idKey, chunkerSecret, params, refWindow }, "chunking")
    : chunkStream(readAhead(snapshotSource(source, start)), { idKey, chunkerSecret, params, refWindow });
  return seal(chunked, { key: opts.key, level: opts.level, workers: opts.workers, known: opts.known });
}

/**
 * A whole backup into every repository; the result (and exit code) is push's. Without a known
 * file, seal takes as known the ids every repository held when push opened it: those chunks go
 * out as references instead of being compressed and encrypted again only for push to drop them
 * as held (docs/repository.md, "Push": a reference is checked against the index as a held
 * object is, and at the commit for deletion marks alike).
 */
export function backup(storages: Storage[], opts: BackupOptions): Promise<PushResult> {
  if (opts.known) return push(sealedStream(opts), storages, opts.push);
  let found!: (known: KnownIds) => void;
  const known = new Promise<KnownIds>((resolve) => (found = resolve));
  const onOpen = (held: Uint8Array) => {
    found(new KnownIds(held));
    opts.push?.onOpen?.(held);
  };
  return push(sealedStream({ ...opts, known }), storages, { ...opts.push, onOpen });
}
