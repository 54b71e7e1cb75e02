// A sealing worker: re-checks a chunk's id, compresses it, and seals it as an age file under
// the run's session; answers with the SEALED payload. The main thread keeps the order.
import { createHmac, timingSafeEqual } from "node:crypto";
import { workerData } from "node:worker_threads";
import { sealWithSession, type Session } from "@cairn/age";
import { CairnError } from "@cairn/errors";
import { compressChunk } from "./zstd.js";
import { encodeSealed, objectName } from "./objects.js";
import { serve, type Job } from "./worker-serve.js";

export interface SealInit {
  session: Session;
  idKey: Uint8Array;
  level: number;
}

export function sealJob(job: Job, init: SealInit): Uint8Array {
  const actual = createHmac("sha256", init.idKey).update(job.data).digest();
  if (!timingSafeEqual(actual, job.id)) {
    throw new CairnError("integrity", `${objectName(job.kind, job.id)} does not match its id (the chunk changed between chunk and seal); nothing was sealed`);
  }
  const sealed = sealWithSession(init.session, compressChunk(job.data, init.level));
  return encodeSealed(job.kind, job.id, sealed);
}

const init = workerData as SealInit;
serve((job) => sealJob(job, init));
