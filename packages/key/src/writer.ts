import { createWriterKey, pinWriter, readOwnerKey, trustFilePath, writeKeyFile } from "@cairn/keys";

export interface KeyWriterOptions {
  owner: string;
  output?: string;
  passphrase?: string;
  writers?: string;
  /** A note kept next to the pinned key in the trust file. */
  name?: string;
  /** Without `output`: delivers the key text (e.g. to stdout) before the key is pinned; a failure stops here. */
  emit?: (text: string) => Promise<void>;
}

/** Derives a writer key from an owner key, writes it, and pins its public key in the trust file. */
export async function keyWriter(opts: KeyWriterOptions): Promise<{ text: string; publicKey: string; keyset: string; trustFile: string }> {
  const owner = await readOwnerKey(opts.owner, { passphrase: opts.passphrase });
  const key = createWriterKey(owner);
  if (opts.output) writeKeyFile(opts.output, key.text, "writer key");
  else await opts.emit?.(key.text);
  const trustFile = trustFilePath(opts.writers);
  const note = [opts.name, new Date().toISOString().slice(0, 10)].filter(Boolean).join(", ");
  pinWriter(key.publicKey, { path: trustFile, note });
  return { ...key, trustFile };
}
