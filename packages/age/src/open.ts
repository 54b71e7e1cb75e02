// Opening an age file: parse the header strictly, unwrap its file key (once per distinct
// header, thanks to the cache), check the header MAC, then decrypt and authenticate the
// whole STREAM payload before returning any of it.
import { CairnError } from "@cairn/errors";
import { headerError, parseHeader, type Header } from "./format.js";
import { macMatches } from "./mac.js";
import { NONCE_BYTES, decryptStream, payloadKey } from "./stream.js";
import { unwrapHeader } from "./wrap.js";

/**
 * Unwrapped file keys by exact header bytes. A sealed stream has one header per session, so
 * a small cache turns thousands of unwraps (ms each) into one; concurrent opens of the same
 * new header share one unwrap. Bounded: least recently used headers are dropped past
 * `capacity`. A cache serves one set of identities: used with another set, it is bypassed,
 * so a key unwrapped by one identity never opens a file for a caller without it.
 */
export class FileKeyCache {
  private readonly keys = new Map<string, Promise<Uint8Array>>();
  private secrets: string | undefined;
  constructor(private readonly capacity = 256) {}

  /** The file key for `header`, from the cache or from `unwrap` (whose failure is not cached). */
  fileKey(header: Uint8Array, secrets: Secrets, unwrap: () => Promise<Uint8Array>): Promise<Uint8Array> {
    const who = JSON.stringify([secrets.identities ?? [], secrets.passphrases ?? []]);
    this.secrets ??= who;
    if (this.secrets !== who) return unwrap();
    const id = cacheId(header);
    let key = this.keys.get(id);
    if (key) {
      this.keys.delete(id); // re-insert: most recently used
    } else {
      key = unwrap();
      key.catch(() => this.keys.get(id) === key && this.keys.delete(id));
    }
    this.keys.set(id, key);
    if (this.keys.size > this.capacity) this.keys.delete(this.keys.keys().next().value as string);
    return key;
  }

  get size(): number {
    return this.keys.size;
  }
}

function cacheId(header: Uint8Array): string {
  return Buffer.from(header.buffer, header.byteOffset, header.length).toString("latin1");
}

export interface Secrets {
  identities?: string[];
  passphrases?: string[];
}

/**
 * Decrypts a complete age file with the identities (AGE-SECRET-KEY-1… / AGE-SECRET-KEY-PQ-1…).
 * Throws CairnError "key" when no identity matches, "integrity" for a damaged header, MAC or
 * payload (the message says which).
 */
export async function openFile(bytes: Uint8Array, identities: string[], cache?: FileKeyCache): Promise<Uint8Array> {
  return openWith(bytes, { identities }, cache);
}

/** openFile with passphrases too (scrypt stanzas), e.g. for a passphrase-protected key file. */
export async function openWith(bytes: Uint8Array, secrets: Secrets, cache?: FileKeyCache): Promise<Uint8Array> {
  const header = parseHeader(bytes);
  const unwrap = () => unwrapAndCheck(header, secrets);
  const fileKey = await (cache ? cache.fileKey(header.bytes, secrets, unwrap) : unwrap());
  const rest = bytes.subarray(header.bytes.length);
  // The testkit (and Go's age) count the nonce as part of the header.
  if (rest.length < NONCE_BYTES) throw headerError(`truncated: the file ends ${rest.length} bytes into the 16-byte payload nonce`);
  const nonce = rest.subarray(0, NONCE_BYTES);
  return decryptStream(payloadKey(fileKey, nonce), rest.subarray(NONCE_BYTES));
}

async function unwrapAndCheck(header: Header, secrets: Secrets): Promise<Uint8Array> {
  const fileKey = await unwrapHeader(header.bytes, secrets.identities ?? [], secrets.passphrases ?? []);
  if (!macMatches(fileKey, header.headerNoMac, header.mac)) {
    throw new CairnError("integrity", "age header MAC: does not match (tampered header)");
  }
  return fileKey;
}
