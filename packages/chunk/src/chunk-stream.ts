import { CairnError } from "@cairn/errors";
import { DEFAULT_REF_WINDOW, FrameType, RefWindow, frameTypeName, type Frame } from "@cairn/protocol";
import { ChunkAssembler } from "./assembler.js";
import { ID_SIZE } from "./chunk-id.js";
import { MacWorker } from "./mac-worker.js";
import { FastCdc } from "./fastcdc.js";
import { ALGORITHM, checkRefWindow, type ChunkerInfo, type ChunkerParams } from "./params.js";
import type { ChunkSecrets } from "./secrets.js";
import { entryLabel, upstreamError } from "./stream-errors.js";

export interface ChunkOptions extends ChunkSecrets {
  /** Chunk sizes; defaults 512 KiB / 1 MiB / 8 MiB. */
  params?: Partial<ChunkerParams>;
  /** Reference window in bytes (docs/protocol.md, "Reference window"); default 64 MiB. */
  refWindow?: number;
}

/** How much chunk data may wait for its id: memory stays within this plus one chunk. */
const MAX_INFLIGHT_BYTES = 8 * 1024 * 1024;
const MAX_INFLIGHT = 8;

/**
 * The `chunk` stage: plain stream → chunked stream. Each entry's content is cut by FastCDC into
 * chunks (never across entries) that go out as CHUNK (id + plaintext) or, while an identical
 * chunk is still in the reference window, as CHUNK_REF (id + length). Everything else is copied.
 * DATA payloads are held (not copied) until their chunk is cut: upstream must not reuse them.
 */
export async function* chunkStream(frames: AsyncIterable<Frame>, opts: ChunkOptions): AsyncGenerator<Frame> {
  const cdc = new FastCdc(opts.chunkerSecret, opts.params);
  const limit = checkRefWindow(opts.refWindow ?? DEFAULT_REF_WINDOW);
  const window = new RefWindow(limit);
  const chunk = new ChunkAssembler();
  const ids = new MacWorker(opts.idKey);
  // Chunks whose ids are being computed, oldest first: frames go out in input order.
  const inflight: { size: number; payload: Promise<Uint8Array> }[] = [];
  let inflightBytes = 0;
  let started = false;
  let entry: Record<string, any> | undefined; // the entry whose content is arriving
  let chunks = 0;
  let refs = 0;
  let plainBytes = 0;

  function submit(): void {
    const size = chunk.size;
    const payload = ids.mac(chunk.take(), ID_SIZE).then(({ bytes, mac }) => {
      bytes.set(mac, 0);
      return bytes;
    });
    payload.catch(() => {}); // awaited in settle(); if the stage fails first, nobody will
    inflight.push({ size, payload });
    inflightBytes += size;
  }

  /** Sends the oldest chunks: all of them, or until few enough are in flight. */
  async function* settle(all: boolean): AsyncGenerator<Frame> {
    while (inflight.length > 0 && (all || inflightBytes > MAX_INFLIGHT_BYTES || inflight.length > MAX_INFLIGHT)) {
      const { size, payload: pending } = inflight.shift()!;
      inflightBytes -= size;
      const payload = await pending;
      const id = payload.subarray(0, ID_SIZE);
      const key = Buffer.from(id.buffer, id.byteOffset, ID_SIZE).toString("hex");
      plainBytes += size;
      if (window.has(key)) {
        refs++;
        const ref = Buffer.allocUnsafe(ID_SIZE + 4);
        ref.set(id, 0);
        ref.writeUInt32BE(size, ID_SIZE);
        yield { type: FrameType.CHUNK_REF, data: ref };
      } else {
        chunks++;
        window.add(key, size, undefined);
        yield { type: FrameType.CHUNK, data: payload };
      }
    }
  }

  function content(data: Uint8Array): void {
    let from = 0;
    for (const cut of cdc.push(data)) {
      chunk.add(data.subarray(from, cut));
      submit();
      from = cut;
    }
    chunk.add(data.subarray(from));
  }

  function checkClosed(next: string): void {
    if (entry && cdc.pending > 0) throw new CairnError("stream", `${entryLabel(entry)} has content but no ENTRY_END before ${next}`);
  }

  try {
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
          yield* settle(true);
          entry = frame.meta!;
          yield frame;
          break;
        case FrameType.DATA:
          if (!entry) throw new CairnError("stream", "a DATA frame outside any entry");
          content(frame.data!);
          yield* settle(false);
          break;
        case FrameType.ENTRY_END:
          if (!entry) throw new CairnError("stream", "an ENTRY_END frame outside any entry");
          if (cdc.finish() > 0) submit();
          yield* settle(true);
          entry = undefined;
          yield frame;
          break;
        case FrameType.END: {
          checkClosed("END");
          yield* settle(true);
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
  } finally {
    ids.close();
  }
}
