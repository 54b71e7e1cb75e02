// ASCII armor (C2SP age, "ASCII armor"): strict PEM with the label AGE ENCRYPTED FILE.
// age-encryption's codec is used as is; cairn needs armor only for passphrase-protected key
// files, which age's own tools write armored.
import { ageEncryption } from "./lazy.js";
import { CairnError } from "@cairn/errors";

const BEGIN = "-----BEGIN AGE ENCRYPTED FILE-----";

/** True if the bytes look like an armored age file (leading whitespace allowed, as the spec does). */
export function isArmored(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 256)).toString("latin1");
  return head.trimStart().startsWith(BEGIN);
}

export async function dearmor(bytes: Uint8Array): Promise<Uint8Array> {
  const { armor } = await ageEncryption();
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1");
  try {
    return armor.decode(text);
  } catch (err) {
    throw new CairnError("integrity", `age armor: ${((err as Error).message ?? String(err)).replace(/\.$/, "")}`);
  }
}

export async function enarmor(file: Uint8Array): Promise<string> {
  return (await ageEncryption()).armor.encode(file);
}
