import { createHash, type Hash } from "node:crypto";
import { crc32 } from "node:zlib";
import { FRAME_OVERHEAD, FrameType, HEADER_SIZE, MAGIC, MAX_PAYLOAD, VERSION, isJsonType, type Frame } from "./frames.js";

const utf8 = new TextEncoder();

/**
 * Serialises frames into protocol v1 bytes. Keeps the running counts and digest that the END
 * frame carries, and fills them into END's JSON (whatever else the stage put there stays).
 */
export class FrameEncoder {
  private started = false;
  private frames = 0;
  private bytes = 0;
  private digest: Hash = createHash("sha256");

  /** The pieces to write for one frame, in order (the header first if this is the first frame). */
  encode(frame: Frame): Uint8Array[] {
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
      payload = utf8.encode(JSON.stringify(frame.meta ?? {}));
    } else {
      if (!frame.data) throw new TypeError(`frame type ${frame.type} needs binary data`);
      payload = frame.data;
    }
    if (payload.length > MAX_PAYLOAD) throw new RangeError(`frame payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD}`);
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
}

/** Frames → bytes, lazily, so a slow reader slows the producer. */
export async function* encodeFrames(frames: AsyncIterable<Frame> | Iterable<Frame>): AsyncGenerator<Uint8Array> {
  const encoder = new FrameEncoder();
  for await (const frame of frames) yield* encoder.encode(frame);
}
