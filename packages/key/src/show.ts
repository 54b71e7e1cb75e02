import { readFileSync } from "node:fs";
import { isAgeFile } from "@cairn/age";
import { CairnError, toCairnError } from "@cairn/errors";
import { idKeyFingerprint, keysetOf, readOwnerKey, readWriterKey } from "@cairn/keys";

export interface KeyDescription {
  type: "owner" | "writer";
  passphrase?: boolean;
  recipients: string[];
  idKeyFingerprint?: string;
  writerPublicKey?: string;
  keyset?: string;
}

/** The public parts of a key file. */
export async function keyShow(path: string, opts: { passphrase?: string } = {}): Promise<KeyDescription> {
  let head: string;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
    head = Buffer.from(bytes).toString("utf8");
  } catch (err) {
    const e = toCairnError(err);
    throw new CairnError(e.kind, e.kind === "notFound" ? `key file ${path} does not exist` : `cannot read key file ${path}: ${e.message}`);
  }
  if (/^cairn-writer-key:/m.test(head)) {
    const w = await readWriterKey(path);
    return { type: "writer", recipients: w.recipients, idKeyFingerprint: idKeyFingerprint(w.idKey), writerPublicKey: w.publicKey, keyset: w.keyset };
  }
  const o = await readOwnerKey(path, opts);
  return {
    type: "owner",
    passphrase: isAgeFile(bytes),
    recipients: o.recipients,
    idKeyFingerprint: o.idKeyFingerprint,
    keyset: o.idKeyFingerprint ? keysetOf(o.recipients, o.idKeyFingerprint) : undefined,
  };
}
