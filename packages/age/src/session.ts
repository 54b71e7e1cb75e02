// A sealing session (DESIGN.md, "Sealing cost"): one file key, wrapped once to the
// recipients, then any number of files that share the session's header and differ in their
// fresh 16-byte nonce. Each is a complete, standard age file.
import { randomBytes } from "node:crypto";
import { encodeHeader, encodeHeaderNoMac } from "./format.js";
import { headerMac } from "./mac.js";
import { NONCE_BYTES, encryptStream, payloadKey, sealedSize } from "./stream.js";
import { wrapToRecipients } from "./wrap.js";

export interface Session {
  /** "age-encryption.org/v1" … through the MAC line's newline. */
  header: Uint8Array;
  /** 16 bytes. Forget it (drop the session) when sealing ends: a writer must not read back. */
  fileKey: Uint8Array;
}

/** Wraps a fresh file key to the recipients (milliseconds: do it once per session). */
export async function newSession(recipients: string[]): Promise<Session> {
  const { stanzas, fileKey } = await wrapToRecipients(recipients);
  const header = encodeHeader(stanzas, headerMac(fileKey, encodeHeaderNoMac(stanzas)));
  return { header, fileKey };
}

/** Seals one file: the session header, a fresh random nonce, and the STREAM payload. */
export function sealWithSession(session: Session, plaintext: Uint8Array): Uint8Array {
  const { header, fileKey } = session;
  // Every byte is written below, so the buffer need not be zeroed first (measurably faster).
  const out: Uint8Array = Buffer.allocUnsafeSlow(header.length + NONCE_BYTES + sealedSize(plaintext.length));
  out.set(header, 0);
  const nonce = randomBytes(NONCE_BYTES);
  out.set(nonce, header.length);
  encryptStream(payloadKey(fileKey, nonce), plaintext, out, header.length + NONCE_BYTES);
  return out;
}
