// A chunk's compression (docs/sealing.md, "Compression"): one standard zstd frame (RFC 8878).
// Chunks that do not compress (already compressed or encrypted data) skip the compressor and
// become a frame of raw blocks, which costs a copy instead of a full compression pass.
import { constants, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { CairnError } from "@cairn/errors";

const SAMPLE = 64 * 1024;
/** A sample that saves less than 1/32 of its size counts as incompressible. */
const USEFUL_SAVING = 1 / 32;
const RAW_BLOCK_MAX = 128 * 1024;
const MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

export function zstd(data: Uint8Array, level: number): Uint8Array {
  // The pledged size lets zstd size its window and tables to the chunk, not to an unknown
  // stream: less memory per call, and the frame records the content size.
  return zstdCompressSync(data, { pledgedSrcSize: data.length, params: { [constants.ZSTD_c_compressionLevel]: level } });
}

/** True when samples from the start and the middle of `data` do not compress at zstd's fastest useful level. */
export function looksIncompressible(data: Uint8Array): boolean {
  if (data.length < 2 * SAMPLE) return false;
  const probe = (at: number) => {
    const sample = data.subarray(at, at + SAMPLE);
    return zstd(sample, 1).length > sample.length * (1 - USEFUL_SAVING);
  };
  return probe(0) && probe(Math.floor(data.length / 2));
}

/**
 * A zstd frame that stores `data` in raw blocks: magic, a frame header with Single_Segment set
 * and a 4-byte Frame_Content_Size, then blocks of at most 128 KiB whose 3-byte headers say
 * "raw" (RFC 8878 §3.1.1). Any zstd decoder reads it. `buffer(size)` may supply the memory.
 */
export function rawZstdFrame(data: Uint8Array, buffer?: (size: number) => Uint8Array): Uint8Array {
  if (data.length > 0xffffffff) throw new RangeError("chunk too large for a raw zstd frame");
  const blocks = Math.max(1, Math.ceil(data.length / RAW_BLOCK_MAX));
  const total = 4 + 1 + 4 + blocks * 3 + data.length;
  // Every byte is written below, so the buffer need not be zeroed first.
  const out: Uint8Array = buffer ? buffer(total) : Buffer.allocUnsafeSlow(total);
  out.set(MAGIC, 0);
  out[4] = 0xa0; // FCS_Flag 2 (4-byte content size), Single_Segment 1, no checksum, no dictionary
  new DataView(out.buffer, out.byteOffset).setUint32(5, data.length, true);
  let o = 9;
  for (let b = 0, at = 0; b < blocks; b++, at += RAW_BLOCK_MAX) {
    const size = Math.min(RAW_BLOCK_MAX, data.length - at);
    const last = b === blocks - 1 ? 1 : 0;
    const header = (size << 3) | (0 << 1) | last; // Block_Type 0 = Raw_Block
    out[o] = header & 0xff;
    out[o + 1] = (header >>> 8) & 0xff;
    out[o + 2] = (header >>> 16) & 0xff;
    out.set(data.subarray(at, at + size), o + 3);
    o += 3 + size;
  }
  return out;
}

/**
 * The zstd frame a chunk is sealed as. `scratch(size)`, when given, supplies the memory for a
 * raw frame: a buffer the caller reuses once the frame is consumed (a seal worker encrypts it
 * at once), instead of a fresh one per incompressible chunk.
 */
export function compressChunk(data: Uint8Array, level: number, scratch?: (size: number) => Uint8Array): Uint8Array {
  return looksIncompressible(data) ? rawZstdFrame(data, scratch) : zstd(data, level);
}

/**
 * The plaintext of a frame in exactly the form rawZstdFrame writes (that frame header, then only
 * raw blocks whose sizes add up to the declared size, the last one flagged and ending the frame),
 * moved to the start of `frame` itself: the answer is a view of `frame`, whose bytes after it are
 * left behind. Any other frame, or one that declares more than `limit` bytes, is left untouched and
 * the answer is undefined: zstd must decode it (or say what is wrong with it).
 *
 * An incompressible chunk's frame is one copy of its bytes; node:zlib would decode it into 16 KiB
 * pieces and join them, three copies and 65 allocations per MiB (docs/benchmarks/seal.md).
 */
export function rawFramePlaintext(frame: Uint8Array, limit: number): Uint8Array | undefined {
  if (frame.length < 12 || frame[4] !== 0xa0 || MAGIC.some((b, i) => frame[i] !== b)) return undefined;
  const size = (frame[5] | (frame[6] << 8) | (frame[7] << 16) | (frame[8] << 24)) >>> 0;
  // Single_Segment: the window is the content size, and no block may exceed it (RFC 8878 §3.1.1.2).
  if (size > limit) return undefined;
  const blockMax = Math.min(size, RAW_BLOCK_MAX);
  // First only read the block headers, so that a frame this does not take stays whole for zstd.
  let at = 9;
  let total = 0;
  for (;;) {
    if (at + 3 > frame.length) return undefined;
    const header = frame[at] | (frame[at + 1] << 8) | (frame[at + 2] << 16);
    const blockSize = header >>> 3;
    if (((header >>> 1) & 3) !== 0 || blockSize > blockMax) return undefined; // not a raw block
    at += 3 + blockSize;
    total += blockSize;
    if (at > frame.length || total > size) return undefined;
    if (header & 1) break; // Last_Block
  }
  if (at !== frame.length || total !== size) return undefined;
  let from = 9;
  for (let to = 0; to < size; ) {
    const blockSize = (frame[from] | (frame[from + 1] << 8) | (frame[from + 2] << 16)) >>> 3;
    frame.copyWithin(to, from + 3, from + 3 + blockSize);
    to += blockSize;
    from += 3 + blockSize;
  }
  return frame.subarray(0, size);
}

/**
 * Decompresses one sealed object's zstd frame, refusing output beyond `limit` bytes (a frame
 * that claims more is damaged or hostile). `what` names the object in errors.
 */
export function decompressChunk(frame: Uint8Array, limit: number, what: string): Buffer {
  // node:zlib's default 16 KiB output pieces, joined at the end. One piece of the size the frame
  // declares is faster per call in isolation, but measured slower in `seal -d` (more V8 marking,
  // higher RSS), twice: docs/benchmarks/memory.md.
  try {
    return zstdDecompressSync(frame, { maxOutputLength: Math.max(1, limit) });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ERR_BUFFER_TOO_LARGE" ? `decompresses to more than ${limit} bytes` : `is not a valid zstd frame (${(err as Error).message})`;
    throw new CairnError("integrity", `${what}: its plaintext ${why}`);
  }
}
