// Opening one stored object with the owner key, as `seal -d` opens it: age-decrypt, decompress
// (at most 32 MiB), and check the plaintext against its id with the pinned id key; refs objects
// against their SHA-256. Runs on a worker thread (open-worker.ts) or in the calling thread.
import { createHash, timingSafeEqual } from "node:crypto";
import { CairnError } from "@cairn/errors";
import { chunkId } from "@cairn/chunk/id";
import { MAX_PAYLOAD, freeData } from "@cairn/protocol";
import { FileKeyCache, openFile } from "@cairn/age";
import { ObjectKind, kindName, toHex } from "@cairn/repository";
import { decompressChunk, rawFramePlaintext } from "@cairn/seal";

export type OpenOne = (kind: number, id: Uint8Array, bytes: Uint8Array) => Promise<void>;

export function objectOpenerHere(identities: string[], idKey: Uint8Array): OpenOne {
  const cache = new FileKeyCache();
  return async (kind, id, bytes) => {
    const name = `${kindName(kind)} ${toHex(id)}`;
    if (kind === ObjectKind.refsBlock || kind === ObjectKind.refsRoot) {
      if (!createHash("sha256").update(bytes).digest().equals(Buffer.from(id))) throw new CairnError("integrity", `${name}: its bytes do not hash to its id`);
      return;
    }
    let frame: Uint8Array;
    try {
      frame = await openFile(bytes, identities, cache);
    } catch (err) {
      if (err instanceof CairnError) throw new CairnError(err.kind === "key" ? "key" : "integrity", `cannot open ${name}: ${err.message}`);
      throw err;
    }
    // The decrypted frame is this function's own: a raw one is unpacked where it lies.
    const plain = rawFramePlaintext(frame, MAX_PAYLOAD) ?? decompressChunk(frame, MAX_PAYLOAD, name);
    const mac = chunkId(idKey, plain);
    freeData(frame);
    freeData(plain);
    if (!timingSafeEqual(mac, Buffer.from(id))) throw new CairnError("integrity", `${name}: not authentic: its content does not match its id under the pinned id key (forged or tampered)`);
  };
}
