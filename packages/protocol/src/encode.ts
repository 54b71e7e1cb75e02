import { crc32 } from "./crc32.js";
import { CairnError } from "@cairn/errors";
import { FRAME_OVERHEAD, FrameType, HEADER_SIZE, MAGIC, MAX_PAYLOAD, VERSION, frameTypeName, isJsonType, isKnownType, type Frame } from "./frames.js";
import { StreamDigest } from "./digest.js";
import { checkBinaryLayout } from "./layout.js";

/** Payloads up to this size are copied into one buffer with their framing. */
const SMALL_FRAME = 64 * 1024;

/**
 * Serialises frames into protocol v1 bytes. Keeps the running counts and digest that the END
 * frame carries, and fills them into END's JSON (whatever else the stage put there stays).
 * Refuses what a decoder would refuse (a first frame other than START or ERROR, a second START,
 * anything after END or ERROR, a payload over the maximum or not fitting its type's layout): a
 * stage with such a bug fails loudly where it is, not in the next stage.
 */
export class FrameEncoder {
  private started = false;
  private done = false;
  private frames = 0;
  private bytes = 0;
  private readonly digest = new StreamDigest();

  /** True once END or ERROR has been encoded: nothing may follow. */
  get finished(): boolean {
    return this.done;
  }

  /** The pieces to write for one frame, in order (the header first if this is the first frame). */
  encode(frame: Frame): Uint8Array[] {
    this.check(frame);
    const out: Uint8Array[] = [];
    if (!this.started) {
      this.started = true;
      const header = Buffer.allocUnsafe(HEADER_SIZE);
      header.set(MAGIC);
      header[MAGIC.length] = VERSION;
      this.digest.addHeader(header);
      out.push(header);
    }
    const type = frame.type;
    if (isJsonType(type)) {
      const meta = type === FrameType.END ? { ...frame.meta, frames: this.frames, bytes: this.bytes, digest: this.digest.hex() } : frame.meta;
      const text = JSON.stringify(meta);
      const length = Buffer.byteLength(text, "utf8");
      this.checkLength(type, length);
      // Small buffers come from Node's shared pool: no ArrayBuffer of its own per frame.
      const one = Buffer.allocUnsafe(FRAME_OVERHEAD + length);
      one.write(text, 5, "utf8");
      out.push(this.frame(type, one, length));
      if (type === FrameType.END || type === FrameType.ERROR) this.done = true;
      return out;
    }
    const payload = frame.data!;
    const problem = checkBinaryLayout(type, payload);
    if (problem) throw bug(`a ${frameTypeName(type)} frame of ${problem}`);
    this.checkLength(type, payload.length);
    if (payload.length <= SMALL_FRAME) {
      // Small frames go out as one buffer: fewer writes, fewer syscalls.
      const one = Buffer.allocUnsafe(FRAME_OVERHEAD + payload.length);
      one.set(payload, 5);
      out.push(this.frame(type, one, payload.length));
    } else {
      // Large payloads are written as they are, between a 5-byte prefix and the 4-byte CRC.
      const prefix = Buffer.allocUnsafe(5);
      prefix[0] = type;
      prefix.writeUInt32BE(payload.length, 1);
      const suffix = Buffer.allocUnsafe(4);
      suffix.writeUInt32BE(crc32(payload, crc32(prefix)), 0);
      this.count(type, payload.length, prefix, suffix);
      out.push(prefix, payload, suffix);
    }
    return out;
  }

  /** Fills in type, length and CRC around a payload already at offset 5 of `one`. */
  private frame(type: number, one: Buffer, length: number): Buffer {
    one[0] = type;
    one.writeUInt32BE(length, 1);
    one.writeUInt32BE(crc32(one.subarray(0, 5 + length)), 5 + length);
    this.count(type, length, one.subarray(0, 5), one.subarray(5 + length));
    return one;
  }

  /** Every frame before END counts towards END's frames, bytes and digest. */
  private count(type: number, length: number, prefix: Uint8Array, suffix: Uint8Array): void {
    if (type === FrameType.END) return;
    this.frames++;
    this.bytes += length;
    this.digest.addFrame(prefix, suffix);
  }

  private checkLength(type: number, length: number): void {
    if (length > MAX_PAYLOAD) throw bug(`a ${frameTypeName(type)} frame of ${length} bytes exceeds the maximum ${MAX_PAYLOAD}`);
  }

  private check(frame: Frame): void {
    const type = frame.type;
    if (this.done) throw bug(`a ${frameTypeName(type)} frame after the stream's END or ERROR`);
    if (!isKnownType(type)) throw bug(`unknown frame type ${type}`);
    if (isJsonType(type) ? frame.meta === undefined : !(frame.data instanceof Uint8Array)) {
      throw bug(`a ${frameTypeName(type)} frame without ${isJsonType(type) ? "meta" : "data"}`);
    }
    if (!this.started && type !== FrameType.START && type !== FrameType.ERROR) throw bug(`a stream that begins with ${frameTypeName(type)}, not START`);
    if (this.started && type === FrameType.START) throw bug("a second START frame");
  }
}

/** A stage handed the encoder something no decoder accepts: a bug in that stage. */
function bug(what: string): CairnError {
  return new CairnError("failed", `internal error: tried to write ${what}`);
}

/** Frames → bytes, lazily, so a slow reader slows the producer. */
export async function* encodeFrames(frames: AsyncIterable<Frame> | Iterable<Frame>): AsyncGenerator<Uint8Array> {
  const encoder = new FrameEncoder();
  for await (const frame of frames) yield* encoder.encode(frame);
}
