import { createHmac, timingSafeEqual } from "node:crypto";
import { CairnError } from "@cairn/errors";
import { FrameType, RefWindow, frameTypeName, type Frame } from "@cairn/protocol";
import { ID_SIZE } from "./chunk-id.js";
import { MAX_REF_WINDOW } from "./params.js";
import { entryLabel, upstreamError } from "./stream-errors.js";

export interface DechunkOptions {
  /** The pinned id key: every chunk is checked against its id with it. */
  idKey: Uint8Array;
}

/**
 * The `chunk -d` stage: chunked stream → plain stream. Every CHUNK is checked against its id
 * before its data goes out as DATA; a CHUNK_REF is resolved from this stage's own replay of the
 * reference window, so memory stays within the window plus one chunk.
 */
export async function* dechunkStream(frames: AsyncIterable<Frame>, opts: DechunkOptions): AsyncGenerator<Frame> {
  let started = false;
  let window = new RefWindow<Uint8Array>(0); // replaced by START's window
  let entry: Record<string, any> | undefined;
  let index = 0; // chunk number within the entry, from 0

  function where(id: Uint8Array): string {
    return `chunk ${index} (id ${Buffer.from(id).toString("hex").slice(0, 16)}…) of ${entryLabel(entry!)}`;
  }

  for await (const frame of frames) {
    const type = frame.type;
    if (!started && type !== FrameType.START) {
      if (type === FrameType.ERROR) throw upstreamError(frame.meta!);
      throw new CairnError("stream", `the stream begins with ${frameTypeName(type)}, not START`);
    }
    switch (type) {
      case FrameType.START: {
        if (started) throw new CairnError("stream", "a second START frame in the stream");
        const { stream: kind, chunker: _c, refWindow, ...rest } = frame.meta!;
        if (kind !== "chunked") throw new CairnError("stream", `chunk -d reads a chunked stream, but this one is ${JSON.stringify(kind)}`);
        if (!Number.isSafeInteger(refWindow) || refWindow < 0 || refWindow > MAX_REF_WINDOW) {
          throw new CairnError("stream", `the START frame's refWindow ${JSON.stringify(refWindow)} is not a valid window size`);
        }
        started = true;
        window = new RefWindow<Uint8Array>(refWindow);
        yield { type, meta: { stream: "plain", ...rest } };
        break;
      }
      case FrameType.ENTRY:
        entry = frame.meta!;
        index = 0;
        yield frame;
        break;
      case FrameType.CHUNK: {
        if (!entry) throw new CairnError("stream", "a CHUNK frame outside any entry");
        const payload = frame.data!;
        if (payload.length < ID_SIZE) throw new CairnError("stream", `a CHUNK frame of ${payload.length} bytes in ${entryLabel(entry)}: too short to hold an id`);
        const id = payload.subarray(0, ID_SIZE);
        const data = payload.subarray(ID_SIZE);
        const mac = createHmac("sha256", opts.idKey).update(data).digest();
        if (!timingSafeEqual(mac, id)) {
          throw new CairnError("integrity", `${where(id)} does not match its id: the data is corrupt, or the id key is not the one it was written with`);
        }
        window.add(Buffer.from(id).toString("hex"), data.length, ownCopy(data));
        index++;
        yield { type: FrameType.DATA, data };
        break;
      }
      case FrameType.CHUNK_REF: {
        if (!entry) throw new CairnError("stream", "a CHUNK_REF frame outside any entry");
        const ref = frame.data!;
        if (ref.length !== ID_SIZE + 4) throw new CairnError("stream", `a CHUNK_REF frame of ${ref.length} bytes in ${entryLabel(entry)} (expected ${ID_SIZE + 4})`);
        const id = ref.subarray(0, ID_SIZE);
        const size = new DataView(ref.buffer, ref.byteOffset + ID_SIZE, 4).getUint32(0);
        const data = window.get(Buffer.from(id).toString("hex"));
        if (!data) throw new CairnError("stream", `${where(id)} refers to a chunk that is not in the reference window`);
        if (data.length !== size) throw new CairnError("stream", `${where(id)} refers to a chunk of ${size} bytes, but that chunk has ${data.length}`);
        index++;
        yield { type: FrameType.DATA, data };
        break;
      }
      case FrameType.ENTRY_END:
        if (!entry) throw new CairnError("stream", "an ENTRY_END frame outside any entry");
        entry = undefined;
        yield frame;
        break;
      case FrameType.END: {
        const { frames: _f, bytes: _b, digest: _d, chunks: _c, refs: _r, plainBytes: _p, ...rest } = frame.meta!;
        yield { type, meta: rest };
        return;
      }
      case FrameType.ERROR:
        throw upstreamError(frame.meta!);
      default:
        throw new CairnError("stream", `unexpected ${frameTypeName(type)} frame in a chunked stream`);
    }
  }
  throw new CairnError("stream", started ? "the stream ended without an END frame" : "empty stream: no START frame");
}

/** The window keeps chunk data for a while: never let a small view pin a large input buffer. */
function ownCopy(data: Uint8Array): Uint8Array {
  return data.buffer.byteLength > data.byteLength + 4096 ? new Uint8Array(data) : data;
}
