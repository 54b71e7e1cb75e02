import { createOwnerKey, obtainPassphrase, writeKeyFile } from "@cairn/keys";

export interface KeyNewOptions {
  output?: string;
  pq?: boolean;
  /** Protect the file with a passphrase: this one, or (if true) from CAIRN_PASSPHRASE / the terminal. */
  passphrase?: string | boolean;
  workFactor?: number;
}

/** Makes an owner key; writes it to `output` (mode 0600, never overwriting) and returns its text and recipient. */
export async function keyNew(opts: KeyNewOptions): Promise<{ text: string; recipient: string }> {
  const passphrase = typeof opts.passphrase === "string"
    ? opts.passphrase
    : opts.passphrase
      ? await obtainPassphrase("Passphrase for the new owner key: ", { confirm: true })
      : undefined;
  const key = await createOwnerKey({ pq: opts.pq, passphrase, workFactor: opts.workFactor });
  if (opts.output) writeKeyFile(opts.output, key.text, "owner key");
  return { text: key.text, recipient: key.recipient };
}
