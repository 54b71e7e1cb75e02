// Passphrase-encrypted files: one scrypt stanza, armored, exactly what `age -p -a` writes
// (and what `age -d -i FILE` accepts as an encrypted identity file).
import { dearmor, enarmor, isArmored } from "./armor.js";
import { VERSION_LINE } from "./format.js";
import { ageEncryption } from "./lazy.js";
import { openWith } from "./open.js";

/** age's default scrypt work factor (2^18): about a second and 256 MiB, once per key file. */
export const DEFAULT_WORK_FACTOR = 18;

export async function encryptWithPassphrase(plaintext: Uint8Array, passphrase: string, opts: { workFactor?: number } = {}): Promise<string> {
  const { Encrypter } = await ageEncryption();
  const encrypter = new Encrypter();
  encrypter.setPassphrase(passphrase);
  encrypter.setScryptWorkFactor(opts.workFactor ?? DEFAULT_WORK_FACTOR);
  return await enarmor(await encrypter.encrypt(plaintext));
}

/** Decrypts a passphrase-encrypted age file, armored or binary. Wrong passphrase → "key". */
export async function decryptWithPassphrase(file: Uint8Array, passphrase: string): Promise<Uint8Array> {
  return openWith(isArmored(file) ? await dearmor(file) : file, { passphrases: [passphrase] });
}

/** True if the bytes are an age file (binary or armored) rather than, say, an identity list. */
export function isAgeFile(bytes: Uint8Array): boolean {
  if (isArmored(bytes)) return true;
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, VERSION_LINE.length + 1)).toString("latin1");
  return head === `${VERSION_LINE}\n`;
}
