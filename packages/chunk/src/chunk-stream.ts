import { CairnError } from "@cairn/errors";
import { DEFAULT_REF_WINDOW, FrameType, RefWindow, frameTypeName, type Frame } from "@cairn/protocol";
import { ChunkAssembler } from "./assembler.js";
import { FastCdc } from "./fastcdc.js";
import { ALGORITHM, type ChunkerInfo, type ChunkerParams } from "./params.js";
import type { ChunkSecrets } from "./secrets.js";
import { entryLabel, upstreamError } from "./stream-errors.js";

export interface ChunkOptions extends ChunkSecrets {
  /** Chunk sizes; defaults 512 KiB / 1 MiB / 8 MiB. */
  params?: Partial<ChunkerParams>;
  /** Reference window in bytes (docs/protocol.md, "Reference window"); default 64 MiB. */
  refWindow?: number;
}

/**
 * The `chunk` stage: plain stream → chunked stream. Each entry's content is cut by FastCDC into
 * chunks (never across entries) that go out as CHUNK (id + plaintext) or, while an identical
 * chunk is still in the reference window, as CHUNK_REF (id + length). Everything else is copied.
 */
export async function* chunkStream(frames: AsyncIterable<Frame>, opts: ChunkOptions): AsyncGenerator<Frame> {
  const cdc = new FastCdc(opts.chunkerSecret, opts.params);
  const limit = opts.refWindow ?? DEFAULT_REF_WINDOW;
  const window = new RefWindow(limit);
  const chunk = new ChunkAssembler(opts.idKey);
  let started = false;
  let entry: Record<string, any> | undefined; // the entry whose content is arriving
  let chunks = 0;
  let refs = 0;
  let plainBytes = 0;

  function* emit(): Generator<Frame> {
    const id = chunk.id();
    const size = chunk.size;
    const key = id.toString("hex");
    plainBytes += size;
    if (window.has(key)) {
      refs++;
      chunk.drop();
      const ref = Buffer.allocUnsafe(id.length + 4);
      id.copy(ref, 0);
      ref.writeUInt32BE(size, id.length);
      yield { type: FrameType.CHUNK_REF, data: ref };
    } else {
      chunks++;
      window.add(key, size, undefined);
      yield { type: FrameType.CHUNK, data: chunk.payload(id) };
    }
  }

  function* content(data: Uint8Array): Generator<Frame> {
    let from = 0;
    for (const cut of cdc.push(data)) {
      chunk.add(data.subarray(from, cut));
      yield* emit();
      from = cut;
    }
    chunk.add(data.subarray(from));
  }

  function checkClosed(next: string): void {
    if (entry && cdc.pending > 0) throw new CairnError("stream", `${entryLabel(entry)} has content but no ENTRY_END before ${next}`);
  }

  for await (const frame of frames) {
    const type = frame.type;
    if (!started && type !== FrameType.START) throw new CairnError("stream", `the stream begins with ${frameTypeName(type)}, not START`);
    switch (type) {
      case FrameType.START: {
        if (started) throw new CairnError("stream", "a second START frame in the stream");
        started = true;
        const kind = frame.meta!.stream;
        if (kind !== "plain") throw new CairnError("stream", `chunk reads a plain stream, but this one is ${JSON.stringify(kind)}`);
        const chunker: ChunkerInfo = { algorithm: ALGORITHM, ...cdc.params };
        yield { type, meta: { ...frame.meta, stream: "chunked", chunker, refWindow: limit } };
        break;
      }
      case FrameType.ENTRY:
        checkClosed("the next ENTRY");
        entry = frame.meta!;
        yield frame;
        break;
      case FrameType.DATA:
        if (!entry) throw new CairnError("stream", "a DATA frame outside any entry");
        yield* content(frame.data!);
        break;
      case FrameType.ENTRY_END:
        if (!entry) throw new CairnError("stream", "an ENTRY_END frame outside any entry");
        if (cdc.finish() > 0) yield* emit();
        entry = undefined;
        yield frame;
        break;
      case FrameType.END: {
        checkClosed("END");
        const { frames: _f, bytes: _b, digest: _d, ...rest } = frame.meta!;
        yield { type, meta: { ...rest, chunks, refs, plainBytes } };
        return;
      }
      case FrameType.ERROR:
        throw upstreamError(frame.meta!);
      default:
        throw new CairnError("stream", `unexpected ${frameTypeName(type)} frame in a plain stream`);
    }
  }
  throw new CairnError("stream", started ? "the stream ended without an END frame" : "empty stream: no START frame");
}
