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
serve((job) =>
  openObjectWithId(job.kind, job.id, job.data, { identities: init.identities, idKey: init.idKey, cache, size: job.size!, exact: job.exact }),
);
