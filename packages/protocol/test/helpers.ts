// Shared by the protocol tests: run a decoder over bytes and collect what it yields.
import { CairnError } from "@cairn/errors";
import { decodeFrames, type Frame } from "@cairn/protocol";

/** The bytes as an async iterable, cut into pieces of `piece` bytes (to exercise reads across chunks). */
export async function* chunksOf(bytes: Uint8Array, piece = bytes.length || 1): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += piece) yield bytes.subarray(i, i + piece);
}

export interface Decoded {
  frames: Frame[];
  error?: CairnError;
  /** Anything thrown that is not a CairnError (always a bug). */
  other?: unknown;
}

/** Decodes to the end or the first error, keeping the frames yielded before it. */
export async function decodeAll(bytes: Uint8Array, piece?: number): Promise<Decoded> {
  const frames: Frame[] = [];
  try {
    for await (const f of decodeFrames(chunksOf(bytes, piece))) frames.push(f);
    return { frames };
  } catch (err) {
    return err instanceof CairnError ? { frames, error: err } : { frames, other: err };
  }
}

export async function collect(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<Uint8Array> {
  const out: Uint8Array[] = [];
  for await (const c of chunks) out.push(c);
  return Buffer.concat(out);
}

/** Reads a vector file: hex digits, whitespace ignored, `#` starts a comment line. */
export function parseHex(text: string): Buffer {
  const digits = text
    .split("\n")
    .filter((l) => !l.startsWith("#"))
    .join("")
    .replace(/\s+/g, "");
  return Buffer.from(digits, "hex");
}
