import { crc32 } from "./crc32.js";
import { CairnError } from "@cairn/errors";
import {
  FRAME_OVERHEAD,
  FrameType,
  HEADER_SIZE,
  MAGIC,
  MAX_PAYLOAD,
  VERSION,
  frameTypeName,
  isJsonType,
  isKnownType,
  type Frame,
} from "./frames.js";
import { StreamDigest } from "./digest.js";
import { parseStrictJson } from "./json.js";
import { checkBinaryLayout, checkStartMeta } from "./layout.js";
import { ByteReader } from "./reader.js";
import { UpstreamError } from "./upstream.js";

function streamError(message: string): CairnError {
  return new CairnError("stream", message);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** Checks the 9-byte stream header; throws on bad magic, a short header or an unknown version. */
export function checkHeader(header: Uint8Array): void {
  if (header.length === 0) throw streamError("empty input: expected a cairn stream");
  const magicPart = header.subarray(0, MAGIC.length);
  if (!magicPart.every((b, i) => MAGIC[i] === b)) {
    throw streamError(`not a cairn stream: it begins with ${hex(magicPart)}, not the magic ${hex(MAGIC)}`);
  }
  if (header.length < HEADER_SIZE) throw streamError(`truncated stream header: ${header.length} of ${HEADER_SIZE} bytes`);
  const version = header[MAGIC.length];
  if (version !== VERSION) {
    throw new CairnError("version", `cairn stream version ${version} is not supported (this build reads version ${VERSION})`);
  }
}

/**
 * A frame's data as the consumer may keep it: a view of the input when it fills a good part of
 * the memory it lies in, else a copy, so that keeping small frames (a window of small chunks)
 * cannot pin far larger input buffers.
 */
function ownMemory(payload: Uint8Array): Uint8Array {
  return payload.length * 4 >= payload.buffer.byteLength ? payload : Buffer.from(payload);
}

/** CRC-32 of prefix and payload: one pass when they lie next to each other in memory. */
function frameCrc(prefix: Uint8Array, payload: Uint8Array): number {
  if (prefix.buffer === payload.buffer && prefix.byteOffset + 5 === payload.byteOffset) {
    return crc32(new Uint8Array(prefix.buffer, prefix.byteOffset, 5 + payload.length));
  }
  return crc32(payload, crc32(prefix));
}

/**
 * Bytes → frames, checking everything protocol v1 promises at the framing level
 * (docs/protocol.md, "Decoding"): magic and version, known frame types, lengths within the
 * maximum, each frame's CRC-32, the fixed layouts of binary frames, JSON that parses to an
 * object, exactly one START and first, an END whose counts and digest match, nothing after END.
 * An ERROR frame is thrown as an UpstreamError. Every failure is a CairnError with one line.
 *
 * `next()` returns frames one at a time (END included), then undefined; `offset` and `length`
 * describe the frame it returned last (inspect prints them).
 */
export class FrameDecoder {
  private readonly reader: ByteReader;
  private readonly digest = new StreamDigest();
  private started = false;
  private ended = false;
  /** Frames before END so far (END's `frames`). */
  frames = 0;
  /** Payload bytes before END so far (END's `bytes`). */
  bytes = 0;
  /** Stream offset of the last frame returned. */
  offset = 0;
  /** Payload length of the last frame returned. */
  length = 0;

  constructor(
    source: AsyncIterable<Uint8Array> | ByteReader,
    private readonly opts: DecodeOptions = {},
  ) {
    this.reader = source instanceof ByteReader ? source : new ByteReader(source);
  }

  async next(): Promise<Frame | undefined> {
    if (this.ended) return undefined;
    const reader = this.reader;
    // Asked for the next frame, so the consumer is done with the last one, or with all before it
    // (see DecodeOptions).
    if (this.opts.borrow === true) reader.release();
    else if (this.opts.borrow === "allButLast" && this.frames > 0) reader.release(this.offset);
    if (!this.started) {
      const header = await reader.read(HEADER_SIZE);
      checkHeader(header);
      this.digest.addHeader(header);
      this.started = true;
    }

    const at = reader.offset;
    const n = this.frames + 1;
    const prefix = await reader.read(5);
    if (prefix.length === 0) {
      throw streamError(`stream ended without an END frame after ${this.frames} frame${this.frames === 1 ? "" : "s"} (did an upstream stage stop early?)`);
    }
    const type = prefix[0];
    if (!isKnownType(type)) throw streamError(`unknown frame type 0x${type.toString(16).padStart(2, "0")} in frame #${n} at byte ${at}`);
    const name = frameTypeName(type);
    if (prefix.length < 5) throw streamError(`truncated frame #${n} (${name}) at byte ${at}: the stream ended inside its length`);
    const length = ((prefix[1] << 24) | (prefix[2] << 16) | (prefix[3] << 8) | prefix[4]) >>> 0;
    if (length > MAX_PAYLOAD) throw streamError(`frame #${n} (${name}) at byte ${at} declares ${length} bytes, more than the maximum ${MAX_PAYLOAD}`);
    // Payload and CRC in one read: one await per frame fewer.
    const rest = await reader.read(length + 4);
    if (rest.length < length + 4) {
      throw streamError(`truncated frame #${n} (${name}) at byte ${at}: the stream ended after ${5 + rest.length} of its ${length + FRAME_OVERHEAD} bytes`);
    }
    const payload = rest.subarray(0, length);
    const suffix = rest.subarray(length);
    const crc = ((suffix[0] << 24) | (suffix[1] << 16) | (suffix[2] << 8) | suffix[3]) >>> 0;
    if (frameCrc(prefix, payload) !== crc) throw streamError(`frame #${n} (${name}) at byte ${at} is corrupt: checksum mismatch`);

    let frame: Frame;
    if (isJsonType(type)) {
      const { value: meta, problem } = parseStrictJson(payload);
      if (problem !== undefined) throw streamError(`frame #${n} (${name}) at byte ${at} holds bad JSON: ${problem}`);
      if (meta === null || typeof meta !== "object" || Array.isArray(meta)) {
        throw streamError(`frame #${n} (${name}) at byte ${at} holds JSON that is not an object`);
      }
      frame = { type, meta: meta as Record<string, any> };
    } else {
      const problem = checkBinaryLayout(type, payload);
      if (problem) throw streamError(`frame #${n} (${name}) at byte ${at} is malformed: ${problem}`);
      // A borrowing consumer copies what it keeps, and the input's memory is freed as it goes.
      frame = { type, data: this.opts.borrow ? payload : ownMemory(payload) };
    }

    if (type === FrameType.ERROR) throw UpstreamError.fromMeta(frame.meta!);
    if (this.frames === 0) {
      if (type !== FrameType.START) throw streamError(`frame #${n} at byte ${at} is ${name}; a stream must begin with START`);
      const problem = checkStartMeta(frame.meta!);
      if (problem) throw streamError(`START at byte ${at} ${problem}`);
    } else if (type === FrameType.START) {
      throw streamError(`frame #${n} at byte ${at} is a second START`);
    }

    this.offset = at;
    this.length = length;
    if (type === FrameType.END) {
      this.checkEnd(frame.meta!, at);
      if (!(await reader.atEnd())) throw streamError(`unexpected data after the END frame (which ends at byte ${reader.offset})`);
      this.ended = true;
      return frame;
    }
    this.frames++;
    this.bytes += length;
    this.digest.addFrame(prefix, suffix);
    return frame;
  }

  private checkEnd(meta: Record<string, any>, at: number): void {
    if (meta.frames !== this.frames || meta.bytes !== this.bytes) {
      throw streamError(`END frame at byte ${at} counts ${meta.frames} frames / ${meta.bytes} bytes, but ${this.frames} / ${this.bytes} arrived`);
    }
    const want = this.digest.hex();
    if (meta.digest !== want) {
      const said = typeof meta.digest === "string" ? `${meta.digest.slice(0, 16)}...` : String(meta.digest);
      throw streamError(`stream digest mismatch: the END frame says ${said}, the stream hashes to ${want.slice(0, 16)}...`);
    }
  }

  /** Stops reading the source. */
  close(): Promise<void> {
    return this.reader.close();
  }
}

export interface DecodeOptions {
  /**
   * The consumer is done with each frame (its data included) when it asks for the next one, so
   * input memory before that point can be freed at once (a source from stdinChunks() frees its
   * slabs: their ArrayBuffers are detached, and a view kept longer reads as empty). For stages
   * that copy what they keep, such as chunk and seal.
   *
   * "allButLast": the same, except that the consumer may still be using the frame it was given
   * last (a write of its data in flight) when it asks for the next; frames before it are done.
   */
  borrow?: boolean | "allButLast";
}

/**
 * Bytes → validated frames, START through END (END included, so a stage can read its summary).
 * Throws a CairnError on the first problem (see FrameDecoder); never yields END for a damaged stream.
 *
 * A binary frame's data may be a view into a larger input buffer that other frames share (at
 * most four times its own size; with `borrow`, of any size, and freed as DecodeOptions says):
 * read it, and keep it only without `borrow`, but never write into it or transfer its
 * ArrayBuffer to a worker; copy it first.
 */
export async function* decodeFrames(source: AsyncIterable<Uint8Array> | ByteReader, opts: DecodeOptions = {}): AsyncGenerator<Frame> {
  const decoder = new FrameDecoder(source, opts);
  try {
    for (;;) {
      const frame = await decoder.next();
      if (frame === undefined) return;
      yield frame;
    }
  } finally {
    // A source we wrapped is ours to stop (a consumer that stops early lets the input close);
    // a ByteReader the caller passed stays theirs.
    if (!(source instanceof ByteReader)) await decoder.close().catch(() => {});
  }
}
