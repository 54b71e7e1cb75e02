// Opening one sealed object (kinds 1–3) as `seal -d` does, on any thread: age-decrypt with the
// owner's identities, decompress within a size limit, and check the plaintext against the id
// under the pinned id key (docs/sealing.md, "Opening a sealed stream").
import { timingSafeEqual } from "node:crypto";
import { CairnError } from "@cairn/errors";
import { chunkId } from "@cairn/chunk/id";
import { openFile, type FileKeyCache } from "@cairn/age";
// frames.js alone: the whole package would load its native CRC-32 into every opening worker
// (~55 ms each at start-up).
import { freeData } from "@cairn/protocol/frames";
import { objectName } from "./objects.js";
import { decompressChunk, rawFramePlaintext } from "./zstd.js";

export interface OpenContext {
  identities: string[];
  idKey: Uint8Array;
  cache: FileKeyCache;
  /** The largest plaintext allowed, or with `exact` the only size allowed. */
  size: number;
  exact?: boolean;
}

/** Added to a key error (no identity opens the object): the usual cause is the wrong key file. */
export const OWNER_KEY_HINT = " (is this the repository's owner key?)";

/** The plaintext of one sealed object (checked against its id); it may be a view of a larger buffer. */
export async function openObject(kind: number, id: Uint8Array, bytes: Uint8Array, ctx: OpenContext): Promise<Uint8Array> {
  return (await openPlain(kind, id, bytes, ctx)).plain;
}

/**
 * openObject's answer as an opening worker sends it: one fresh buffer, the id then the plaintext,
 * owned whole so it can be moved to another thread. The buffers in between are freed here, not
 * left to the garbage collector (docs/benchmarks/memory.md).
 */
export async function openObjectWithId(kind: number, id: Uint8Array, bytes: Uint8Array, ctx: OpenContext): Promise<Uint8Array> {
  const { plain, scratch } = await openPlain(kind, id, bytes, ctx);
  // Every byte is written below, so the buffer need not be zeroed first.
  const out: Uint8Array = Buffer.allocUnsafeSlow(id.length + plain.length);
  out.set(id);
  out.set(plain, id.length);
  freeData(scratch);
  freeData(plain);
  return out;
}

/** `scratch`: the decrypted frame, free once `plain` (which may view it) has been used. */
async function openPlain(kind: number, id: Uint8Array, bytes: Uint8Array, ctx: OpenContext): Promise<{ plain: Uint8Array; scratch: Uint8Array }> {
  const name = objectName(kind, id);
  let zstdFrame: Uint8Array;
  try {
    zstdFrame = await openFile(bytes, ctx.identities, ctx.cache);
  } catch (err) {
    if (err instanceof CairnError) {
      const why = err.kind === "key" ? `${err.message}${OWNER_KEY_HINT}` : err.message;
      throw new CairnError(err.kind, `cannot open ${name}: ${why}`);
    }
    throw err;
  }
  // The decrypted frame is this function's own: a raw one is unpacked where it lies.
  const plain = rawFramePlaintext(zstdFrame, ctx.size) ?? decompressChunk(zstdFrame, ctx.size, name);
  if (ctx.exact && plain.length !== ctx.size) throw new CairnError("integrity", `${name} holds ${plain.length} bytes; the manifest says ${ctx.size}`);
  const actual = chunkId(ctx.idKey, plain);
  if (actual.length !== id.length || !timingSafeEqual(actual, id)) {
    throw new CairnError("integrity", `${name} is not authentic: its content does not match its id under the pinned id key (forged or tampered)`);
  }
  return { plain, scratch: zstdFrame };
}
