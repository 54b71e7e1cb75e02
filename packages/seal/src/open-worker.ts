// An opening worker for `seal -d`: decrypts a sealed object with the owner's identities (each
// distinct header unwrapped once), decompresses it within its size limit and checks it against
// its id under the pinned id key; answers with a CHUNK payload (id + plaintext).
import { workerData } from "node:worker_threads";
import { FileKeyCache } from "@cairn/age";
import { serve } from "./worker-serve.js";
import { openObjectWithId } from "./open-object.js";

export interface OpenInit {
  identities: string[];
  idKey: Uint8Array;
}

const init = workerData as OpenInit;
const cache = new FileKeyCache();
/**
 * Job bytes between full collections here. Opening frees the buffers it allocates as it goes
 * (openObjectWithId), so the 32 MiB a sealing worker needs only cost time: `seal -d` of 1 GiB,
 * interleaved 3 × each, 5.8–6.5 CPU-s with 256 MiB against 6.9–7.8 with 32 MiB, peak RSS
 * 230–257 MiB against 217–237 (docs/benchmarks/seal.md). With none at all RSS still rose.
 */
const MAJOR_EVERY = 256 << 20;

serve(
  (job) => openObjectWithId(job.kind, job.id, job.data, { identities: init.identities, idKey: init.idKey, cache, size: job.size!, exact: job.exact }),
  MAJOR_EVERY,
);
