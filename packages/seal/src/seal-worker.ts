// A sealing worker: re-checks a chunk's id, compresses it, and seals it as an age file under
// the run's session; answers with the SEALED payload. The main thread keeps the order.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { workerData } from "node:worker_threads";
import { encryptStream, payloadKey, sealedSize, NONCE_BYTES, type Session } from "@cairn/age";
import { CairnError } from "@cairn/errors";
import { chunkId } from "@cairn/chunk/id";
import { compressChunk } from "./zstd.js";
import { ID_SIZE, objectName } from "./objects.js";
import { serve, type Job } from "./worker-serve.js";

export interface SealInit {
  session: Session;
  idKey: Uint8Array;
  level: number;
}

/** Memory for raw frames, reused: a frame is encrypted into the job's answer before the next job starts. */
let scratch: Uint8Array = Buffer.allocUnsafeSlow(0);
function scratchOf(size: number): Uint8Array {
  if (scratch.length < size) scratch = Buffer.allocUnsafeSlow(size);
  return scratch.subarray(0, size);
}

export function sealJob(job: Job, init: SealInit): Uint8Array {
  const actual = chunkId(init.idKey, job.data);
  if (!timingSafeEqual(actual, job.id)) {
    throw new CairnError("integrity", `${objectName(job.kind, job.id)} does not match its id under this writer key (chunk ran with another repository's key, or the chunk changed between chunk and seal); nothing was sealed`);
  }
  return sealInto(job.kind, job.id, init.session, compressChunk(job.data, init.level, scratchOf));
}

/**
 * The SEALED payload `kind | id | age file` in one buffer: the age file is what
 * sealWithSession makes (session header, fresh 16-byte nonce, STREAM payload), encrypted
 * straight into its place instead of into a buffer of its own that is then copied.
 */
function sealInto(kind: number, id: Uint8Array, session: Session, plaintext: Uint8Array): Uint8Array {
  const { header, fileKey } = session;
  const at = 1 + ID_SIZE;
  // Every byte is written below, so the buffer need not be zeroed first.
  const out: Uint8Array = Buffer.allocUnsafeSlow(at + header.length + NONCE_BYTES + sealedSize(plaintext.length));
  out[0] = kind;
  out.set(id, 1);
  out.set(header, at);
  const nonce = randomBytes(NONCE_BYTES);
  out.set(nonce, at + header.length);
  encryptStream(payloadKey(fileKey, nonce), plaintext, out, at + header.length + NONCE_BYTES);
  return out;
}

const init = workerData as SealInit;
serve((job) => sealJob(job, init));
