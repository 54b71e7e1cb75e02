// Opening one sealed object (kinds 1–3) as `seal -d` does, on any thread: age-decrypt with the
// owner's identities, decompress within a size limit, and check the plaintext against the id
// under the pinned id key (docs/sealing.md, "Opening a sealed stream").
import { createHmac, timingSafeEqual } from "node:crypto";
import { CairnError } from "@cairn/errors";
import { openFile, type FileKeyCache } from "@cairn/age";
import { objectName } from "./objects.js";
import { decompressChunk } from "./zstd.js";

export interface OpenContext {
  identities: string[];
  idKey: Uint8Array;
  cache: FileKeyCache;
  /** The largest plaintext allowed, or with `exact` the only size allowed. */
  size: number;
  exact?: boolean;
}

export async function openObject(kind: number, id: Uint8Array, bytes: Uint8Array, ctx: OpenContext): Promise<Buffer> {
  const name = objectName(kind, id);
  let zstdFrame: Uint8Array;
  try {
    zstdFrame = await openFile(bytes, ctx.identities, ctx.cache);
  } catch (err) {
    if (err instanceof CairnError) {
      const why = err.kind === "key" ? `${err.message} (is this the repository's owner key?)` : err.message;
      throw new CairnError(err.kind, `cannot open ${name}: ${why}`);
    }
    throw err;
  }
  const plain = decompressChunk(zstdFrame, ctx.size, name);
  if (ctx.exact && plain.length !== ctx.size) throw new CairnError("integrity", `${name} holds ${plain.length} bytes; the manifest says ${ctx.size}`);
  const actual = createHmac("sha256", ctx.idKey).update(plain).digest();
  if (actual.length !== id.length || !timingSafeEqual(actual, id)) {
    throw new CairnError("integrity", `${name} is not authentic: its content does not match its id under the pinned id key (forged or tampered)`);
  }
  return plain;
}
