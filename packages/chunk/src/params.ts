import { CairnError } from "@cairn/errors";
import { MAX_REF_WINDOW } from "@cairn/protocol";
export { MAX_REF_WINDOW };

/**
 * Chunk size parameters of cairn's FastCDC (docs/chunking.md, "Parameters"). They travel in the
 * chunked stream's START frame (`chunker`), the secret never does.
 */
export interface ChunkerParams {
  /** No chunk but the last of an entry is shorter than min + 1 bytes: the first min bytes are not hashed. */
  min: number;
  /** The target mean, a power of two: it fixes the masks. */
  avg: number;
  /** A chunk that finds no cut point ends at max bytes. */
  max: number;
}

export const ALGORITHM = "fastcdc-gear32-v1";
export const KIB = 1024;
export const MIB = 1024 * KIB;
export const DEFAULT_PARAMS: Readonly<ChunkerParams> = Object.freeze({ min: 512 * KIB, avg: MIB, max: 8 * MIB });
/** The largest chunk a stage may produce: seal's frames must hold a sealed chunk (protocol MAX_PAYLOAD). */
export const MAX_CHUNK = 16 * MIB;
const MIN_MIN = 64;

/** What START's `chunker` field holds. */
export interface ChunkerInfo extends ChunkerParams {
  algorithm: typeof ALGORITHM;
}

/** The derived constants the cut-point search uses. */
export interface ChunkerMasks {
  /** Chunk offset from which the easier mask applies: min + (avg − min) / 2, rounded down. */
  normal: number;
  /** The top (log2 avg + 2) bits of a 32-bit word, as a signed int32: used before `normal`. */
  maskS: number;
  /** The top (log2 avg − 2) bits: used from `normal` on. */
  maskL: number;
}

/** Throws a "usage" error unless 64 ≤ min < avg < max ≤ 16 MiB, avg a power of two between 256 B and 256 MiB. */
export function checkParams(p: ChunkerParams): ChunkerParams {
  const bad = (why: string) => new CairnError("usage", `bad chunker parameters (min ${p.min}, avg ${p.avg}, max ${p.max}): ${why}`);
  for (const [name, v] of Object.entries(p)) {
    if (!Number.isSafeInteger(v) || v <= 0) throw bad(`${name} must be a positive whole number of bytes`);
  }
  if (p.min < MIN_MIN) throw bad(`min must be at least ${MIN_MIN}`);
  if (!(p.min < p.avg && p.avg < p.max)) throw bad("need min < avg < max");
  if (p.max > MAX_CHUNK) throw bad(`max must be at most ${MAX_CHUNK} (16 MiB)`);
  if ((p.avg & (p.avg - 1)) !== 0) throw bad("avg must be a power of two");
  return { min: p.min, avg: p.avg, max: p.max };
}

/** The normal point and the two masks of normalization level 2 (docs/chunking.md, "Masks"). */
export function masksFor(p: ChunkerParams): ChunkerMasks {
  const bits = Math.log2(p.avg); // exact: avg is a power of two
  return {
    normal: p.min + Math.floor((p.avg - p.min) / 2),
    maskS: topBits(bits + 2),
    maskL: topBits(bits - 2),
  };
}

function topBits(n: number): number {
  if (n <= 0) return 0;
  if (n >= 32) return -1;
  return (~0 << (32 - n)) | 0;
}

/** Parses sizes like "512K", "1M", "1MiB", "4096" (binary units). */
export function parseSize(text: string, flag: string): number {
  const m = /^\s*(\d+)\s*([kmg]?)(i?b)?\s*$/i.exec(text);
  if (!m) throw new CairnError("usage", `${flag} ${JSON.stringify(text)} is not a size (examples: 4096, 512K, 1M)`);
  const unit = { "": 1, k: KIB, m: MIB, g: 1024 * MIB }[m[2].toLowerCase() as "" | "k" | "m" | "g"];
  return Number(m[1]) * unit;
}

/** Throws a "usage" error unless the reference window is a whole number of bytes up to MAX_REF_WINDOW. */
export function checkRefWindow(bytes: number): number {
  if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > MAX_REF_WINDOW) {
    throw new CairnError("usage", `bad reference window ${bytes}: it must be a whole number of bytes up to ${MAX_REF_WINDOW / MIB}M (readers refuse larger ones)`);
  }
  return bytes;
}
