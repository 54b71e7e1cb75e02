// The worker thread of a fused backup: reads the source and chunks it (file reads, SHA-256,
// FastCDC, chunk ids) while the main thread seals and pushes.
import { chunkStream, type ChunkerParams } from "@cairn/chunk";
import type { StartOptions } from "@cairn/snapshot";
import { serveFrames, tellCommand } from "./frames-worker.js";
import { snapshotSource, type Source } from "./source.js";

export interface ChunkJob {
  source: Source;
  start?: StartOptions;
  idKey: Uint8Array;
  chunkerSecret: Uint8Array;
  params?: Partial<ChunkerParams>;
  refWindow?: number;
}

/** The compiled module (src/ and dist/ are siblings: from either, it is ../dist/chunk-worker.js). */
export const CHUNK_WORKER = new URL("../dist/chunk-worker.js", import.meta.url);

export function chunkJob(job: ChunkJob) {
  return chunkStream(snapshotSource(job.source, job.start, tellCommand), { idKey: job.idKey, chunkerSecret: job.chunkerSecret, params: job.params, refWindow: job.refWindow });
}

serveFrames(import.meta.url, chunkJob);
