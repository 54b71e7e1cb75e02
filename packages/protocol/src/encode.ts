import { createHash, type Hash } from "node:crypto";
import { crc32 } from "node:zlib";
import { CairnError } from "@cairn/errors";
import { FRAME_OVERHEAD, FrameType, HEADER_SIZE, MAGIC, MAX_PAYLOAD, VERSION, frameTypeName, isJsonType, isKnownType, type Frame } from "./frames.js";
import { checkBinaryLayout } from "./layout.js";

const utf8 = new TextEncoder();

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
  private digest: Hash = createHash("sha256");

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
      const header = new Uint8Array(HEADER_SIZE);
      header.set(MAGIC);
      header[MAGIC.length] = VERSION;
      this.digest.update(header);
      out.push(header);
    }
    let payload: Uint8Array;
    if (frame.type === FrameType.END) {
      payload = utf8.encode(JSON.stringify({ ...frame.meta, frames: this.frames, bytes: this.bytes, digest: this.digest.digest("hex") }));
    } else if (isJsonType(frame.type)) {
      payload = utf8.encode(JSON.stringify(frame.meta));
    } else {
      payload = frame.data!;
      const problem = checkBinaryLayout(frame.type, payload);
      if (problem) throw bug(`a ${frameTypeName(frame.type)} frame of ${problem}`);
    }
    if (payload.length > MAX_PAYLOAD) throw bug(`a ${frameTypeName(frame.type)} frame of ${payload.length} bytes exceeds the maximum ${MAX_PAYLOAD}`);
    if (frame.type === FrameType.END || frame.type === FrameType.ERROR) this.done = true;
    const prefix = new Uint8Array(5);
    prefix[0] = frame.type;
    new DataView(prefix.buffer).setUint32(1, payload.length);
    const crc = crc32(payload, crc32(prefix));
    const suffix = new Uint8Array(4);
    new DataView(suffix.buffer).setUint32(0, crc);
    if (frame.type !== FrameType.END) {
      this.frames++;
      this.bytes += payload.length;
      this.digest.update(prefix);
      this.digest.update(suffix);
    }
    if (payload.length <= 64 * 1024) {
      // Small frames go out as one buffer: fewer writes, fewer syscalls.
      const one = new Uint8Array(FRAME_OVERHEAD + payload.length);
      one.set(prefix);
      one.set(payload, 5);
      one.set(suffix, 5 + payload.length);
      out.push(one);
    } else {
      out.push(prefix, payload, suffix);
    }
    return out;
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
