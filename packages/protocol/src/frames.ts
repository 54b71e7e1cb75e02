// The frame types of stream protocol v1 (docs/protocol.md, "Frame types").
// A decoder rejects any type not listed here.

export const MAGIC = Uint8Array.of(0x89, 0x63, 0x61, 0x69, 0x72, 0x6e, 0x0d, 0x0a); // "\x89cairn\r\n"
export const VERSION = 1;
export const HEADER_SIZE = MAGIC.length + 1;
/** Largest payload a frame may carry: the largest sealed chunk (16 MiB plaintext max) plus age overhead. */
export const MAX_PAYLOAD = 32 * 1024 * 1024;
/** type u8 + length u32 before the payload, crc32 u32 after it. */
export const FRAME_OVERHEAD = 9;

export const FrameType = {
  START: 0x01, // JSON: stream kind and snapshot-level metadata (host, time, label, tags)
  ENTRY: 0x10, // JSON: one file system entry's metadata
  DATA: 0x11, // raw: the next bytes of the current entry's content
  ENTRY_END: 0x12, // JSON: the entry's size and SHA-256, or why it is partial
  CHUNK: 0x20, // binary: 32-byte chunk id, then the chunk's plaintext
  CHUNK_REF: 0x21, // binary: 32-byte chunk id, then u32 plaintext length: a chunk sent earlier in this stream
  SEALED: 0x30, // binary: a sealed object (layout in docs/protocol.md, "Sealed stream")
  SEALED_REF: 0x31, // binary: a sealed object the stream refers to but does not carry
  SEAL_INFO: 0x32, // JSON: sealed-stream session information
  COMMIT: 0x3f, // JSON: the signed clear part of a snapshot
  ERROR: 0x7e, // JSON: an upstream stage failed; the stream ends here, without END
  END: 0x7f, // JSON: counts and digest of everything before it
} as const;

export type FrameTypeCode = (typeof FrameType)[keyof typeof FrameType];

const jsonTypes = new Set<number>([
  FrameType.START,
  FrameType.ENTRY,
  FrameType.ENTRY_END,
  FrameType.SEAL_INFO,
  FrameType.COMMIT,
  FrameType.ERROR,
  FrameType.END,
]);
const knownTypes = new Set<number>(Object.values(FrameType));

export function isJsonType(type: number): boolean {
  return jsonTypes.has(type);
}

export function isKnownType(type: number): boolean {
  return knownTypes.has(type);
}

const names: string[] = [];
for (const [name, code] of Object.entries(FrameType)) names[code] = name;

export function frameTypeName(type: number): string {
  return names[type] ?? `0x${type.toString(16).padStart(2, "0")}`;
}

/**
 * A frame as tools pass it around: JSON frames carry `meta`, binary frames carry `data`.
 * Fused commands pass these objects between stages without serialising them.
 *
 * `dispose`: the stage hands `data`'s memory over with the frame: writeFrames frees it (detaches
 * its ArrayBuffer) once the bytes are written, instead of leaving megabytes per chunk to the
 * garbage collector. Only for data that covers an ArrayBuffer of its own that nothing else uses;
 * a stage in the same process (a fused command) may ignore it.
 *
 * `written`: the stage lends `data` (memory it keeps, such as chunk -d's reference window) and
 * wants to hear when the frame's bytes are no longer needed: writeFrames calls it once they are
 * written, a consumer that copies the data calls it after the copy. Until then the stage leaves
 * the memory alone. A consumer that ignores it may keep using the data as long as it likes; the
 * stage then never frees that memory itself and leaves it to the garbage collector. A frame has
 * `dispose` or `written`, never both (memory handed over is not the stage's to take back).
 */
export type Frame =
  | { type: number; meta: Record<string, any>; data?: undefined; dispose?: undefined; written?: undefined }
  | { type: number; data: Uint8Array; meta?: undefined; dispose?: boolean; written?: () => void };

/** True when `data` covers the whole of an ArrayBuffer (not shared, not a view into a larger one). */
export function ownsBuffer(data: Uint8Array): boolean {
  return data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
}

/**
 * A copy of `data` in an ArrayBuffer of exactly its size (so ownsBuffer holds: it can be moved to
 * another thread or freed), not zeroed first since every byte is copied in.
 */
export function ownedCopy(data: Uint8Array): Uint8Array {
  const copy: Uint8Array = Buffer.allocUnsafeSlow(data.length);
  copy.set(data);
  return copy;
}

/**
 * Frees memory handed over with a frame (Frame.dispose) or otherwise owned by the caller: detaches
 * `data`'s ArrayBuffer now, if `data` covers all of it, instead of leaving it to the garbage
 * collector. Fresh ArrayBuffers count as external memory, and V8 runs a full collection for every
 * ~64 MB of them left undetached (docs/benchmarks/memory.md); a detached one counts no more.
 */
export function freeData(data: Uint8Array): void {
  if (ownsBuffer(data) && !(data.buffer as ArrayBuffer).detached) (data.buffer as ArrayBuffer).transfer(0);
}
