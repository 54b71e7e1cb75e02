// The frames' CRC-32 (IEEE 802.3, as zlib computes it: docs/protocol.md). Every byte of a stream
// passes through it twice per hop (once encoding, once decoding), so its speed shows in every
// stage: node:zlib's crc32 runs ~2.5 GiB/s on these machines, @node-rs/crc32 (crc32fast, with
// PCLMULQDQ) ~6.8 GiB/s on 64 KiB and up (docs/benchmarks/protocol.md). Short inputs stay with
// node:zlib, where the native call's own cost is the larger part. On a platform the package has
// no build for, node:zlib computes them all; both give the same values (tested).
import { createRequire } from "node:module";
import { crc32 as zlibCrc32 } from "node:zlib";

type Crc32 = (input: Uint8Array, initial?: number) => number;

function loadNative(): Crc32 | undefined {
  try {
    return (createRequire(import.meta.url)("@node-rs/crc32") as { crc32: Crc32 }).crc32;
  } catch {
    return undefined;
  }
}

const native = loadNative();
/**
 * From this many bytes the native CRC-32 is used: at 1 KiB it is already the faster (2.6 against
 * 1.9 GiB/s), at 33 bytes node:zlib is (0.27 against 0.20; docs/benchmarks/protocol.md). Sizes in
 * between were not measured: few frames fall there.
 */
const NATIVE_FROM = 1024;

/** True when the fast native CRC-32 is in use for long inputs. */
export const nativeCrc32 = native !== undefined;

export function crc32(data: Uint8Array, initial = 0): number {
  return native !== undefined && data.length >= NATIVE_FROM ? native(data, initial) : zlibCrc32(data, initial);
}
