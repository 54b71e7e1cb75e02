// @cairn/backup: `snapshot | chunk | seal | push` in one process. The same library stages as the
// pipeline, chained as async iterables: frames pass in memory, never encoded or decoded between
// stages; seal's worker pool does the compression and encryption.
import type { Frame } from "@cairn/protocol";
import type { StartOptions } from "@cairn/snapshot";
import { chunkStream, type ChunkerParams } from "@cairn/chunk";
import { seal, type KnownIds, type SealingKey } from "@cairn/seal";
import { push, type PushOptions, type PushResult } from "@cairn/push";
import type { Storage } from "@cairn/storage";
import { snapshotSource, type Source } from "./source.js";

export { snapshotSource, type Source } from "./source.js";

export interface BackupOptions {
  /** The writer key (@cairn/keys readWriterKey): chunk takes its id key and chunker secret, seal the rest. */
  key: SealingKey;
  source: Source;
  start?: StartOptions;
  /** chunk: sizes and reference window. */
  params?: Partial<ChunkerParams>;
  refWindow?: number;
  /** seal: zstd level, worker threads, ids the repository holds. */
  level?: number;
  workers?: number;
  known?: KnownIds;
  /** push: jobs, cache, pack size, known file out. */
  push?: PushOptions;
}

/** snapshot → chunk → seal: the sealed stream `push` reads. */
export function sealedStream(opts: BackupOptions): AsyncIterable<Frame> {
  const plain = snapshotSource(opts.source, opts.start);
  const chunked = chunkStream(plain, { idKey: opts.key.idKey, chunkerSecret: opts.key.chunkerSecret, params: opts.params, refWindow: opts.refWindow });
  return seal(chunked, { key: opts.key, level: opts.level, workers: opts.workers, known: opts.known });
}

/** A whole backup into every repository; the result (and exit code) is push's. */
export function backup(storages: Storage[], opts: BackupOptions): Promise<PushResult> {
  return push(sealedStream(opts), storages, opts.push);
}
