import { CairnError } from "@cairn/errors";
import { DEFAULT_REF_WINDOW, FrameType, MAX_PAYLOAD, RefWindow, frameTypeName, freeData, type Frame } from "@cairn/protocol";
import { ID_SIZE } from "./chunk-id.js";
import { Cutter } from "./cutter.js";
import { ALGORITHM, DEFAULT_PARAMS, checkParams, checkRefWindow, type ChunkerInfo, type ChunkerParams } from "./params.js";
import type { ChunkSecrets } from "./secrets.js";
import { entryLabel, upstreamError } from "./stream-errors.js";

export interface ChunkOptions extends ChunkSecrets {
  /** Chunk sizes; defaults 512 KiB / 1 MiB / 8 MiB. */
  params?: Partial<ChunkerParams>;
  /** Reference window in bytes (docs/protocol.md, "Reference window"); default 64 MiB. */
  refWindow?: number;
}

/** Segments at the cutting thread at once: memory stays within these plus the chunks they make. */
const MAX_IN_FLIGHT = 3;
/** Frames and chunk results waiting to go out (many small entries behind one large one). */
const MAX_QUEUED = 4096;

/** What goes out next, in input order: a frame as it is, or the chunks a segment will yield. */
type Pending = { frame: Frame } | { chunks: Promise<Uint8Array[]>; done: boolean };

/**
 * START and END grow here (the chunker's members, the counts): one that came near the maximum
 * frame size may no longer fit. That input cannot be chunked (stream), where the encoder would
 * take the frame for a bug of this stage (exit 1). END is measured with the encoder's frames,
 * bytes and digest at their longest.
 */
function fitting(type: number, meta: Record<string, unknown>): Record<string, unknown> {
  const measured = type === FrameType.END ? { ...meta, frames: Number.MAX_SAFE_INTEGER, bytes: Number.MAX_SAFE_INTEGER, digest: "0".repeat(64) } : meta;
  const length = Buffer.byteLength(JSON.stringify(measured));
  if (length > MAX_PAYLOAD) {
    throw new CairnError("stream", `the ${frameTypeName(type)} frame is too large to pass on: with chunk's members it would take up to ${length} bytes, more than the maximum ${MAX_PAYLOAD}`);
  }
  return meta;
}

/**
 * The `chunk` stage: plain stream → chunked stream. Each entry's content is cut by FastCDC into
 * chunks (never across entries) that go out as CHUNK (id + plaintext) or, while an identical
 * chunk is still in the reference window, as CHUNK_REF (id + length). Everything else is copied.
 * DATA payloads are copied into the cutter's segments as they arrive (cutter.ts); the cutting
 * and the ids run on a thread of their own, this one keeps the order and the window.
 */
export async function* chunkStream(frames: AsyncIterable<Frame>, opts: ChunkOptions): AsyncGenerator<Frame> {
  const params = checkParams({ ...DEFAULT_PARAMS, ...opts.params });
  const limit = checkRefWindow(opts.refWindow ?? DEFAULT_REF_WINDOW);
  const window = new RefWindow(limit);
  const cutter = new Cutter({ idKey: opts.idKey, chunkerSecret: opts.chunkerSecret, params });
  const queue: Pending[] = [];
  let started = false;
  let entry: Record<string, any> | undefined; // the entry whose content is arriving
  let entryBytes = 0;
  let chunks = 0;
  let refs = 0;
  let plainBytes = 0;

  function expect(result: Promise<Uint8Array[]>): void {
    const pending = { chunks: result, done: false };
    result.then(
      () => (pending.done = true),
      () => (pending.done = true), // awaited in settle(); if the stage fails first, nobody will
    );
    queue.push(pending);
  }

  /** Sends what is ready, in order; with `all`, everything; otherwise waits only while too much is in flight. */
  async function* settle(all: boolean): AsyncGenerator<Frame> {
    while (queue.length > 0) {
      const next = queue[0];
      if ("chunks" in next && !next.done && !all && cutter.inFlight <= MAX_IN_FLIGHT && queue.length < MAX_QUEUED) return;
      queue.shift();
      if ("frame" in next) {
        yield next.frame;
        continue;
      }
      for (const payload of await next.chunks) {
        const id = payload.subarray(0, ID_SIZE);
        const size = payload.length - ID_SIZE;
        const key = Buffer.from(id.buffer, id.byteOffset, ID_SIZE).toString("hex");
        plainBytes += size;
        if (window.has(key)) {
          refs++;
          const ref = Buffer.allocUnsafe(ID_SIZE + 4);
          ref.set(id, 0);
          ref.writeUInt32BE(size, ID_SIZE);
          freeData(payload); // it goes no further
          yield { type: FrameType.CHUNK_REF, data: ref };
        } else {
          chunks++;
          window.add(key, size, undefined);
          // The payload's memory is the frame's alone: the writer frees it once written.
          yield { type: FrameType.CHUNK, data: payload, dispose: true };
        }
      }
    }
  }

  function checkClosed(next: string): void {
    if (entry && entryBytes > 0) throw new CairnError("stream", `${entryLabel(entry)} has content but no ENTRY_END before ${next}`);
    // Only a dir, symlink or hard link may go without one (docs/protocol.md): a file's carries its size and digest.
    if (entry && entry.kind === "file") throw new CairnError("stream", `${entryLabel(entry)} is a file with no ENTRY_END before ${next}`);
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
          const chunker: ChunkerInfo = { algorithm: ALGORITHM, ...params };
          yield { type, meta: fitting(type, { ...frame.meta, stream: "chunked", chunker, refWindow: limit }) };
          break;
        }
        case FrameType.ENTRY:
          checkClosed("the next ENTRY");
          entry = frame.meta!;
          entryBytes = 0;
          queue.push({ frame });
          break;
        case FrameType.DATA:
          if (!entry) throw new CairnError("stream", "a DATA frame outside any entry");
          entryBytes += frame.data!.length;
          for (const sent of cutter.add(frame.data!)) expect(sent);
          // Copied into the cutter's segments: memory handed over with the frame is freed now.
          if (frame.dispose) freeData(frame.data!);
          break;
        case FrameType.ENTRY_END:
          if (!entry) throw new CairnError("stream", "an ENTRY_END frame outside any entry");
          if (entryBytes > 0) expect(cutter.finish());
          entry = undefined;
          entryBytes = 0;
          queue.push({ frame });
          break;
        case FrameType.END: {
          checkClosed("END");
          yield* settle(true);
          const { frames: _f, bytes: _b, digest: _d, ...rest } = frame.meta!;
          yield { type, meta: fitting(type, { ...rest, chunks, refs, plainBytes }) };
          return;
        }
        case FrameType.ERROR:
          throw upstreamError(frame.meta!);
        default:
          throw new CairnError("stream", `unexpected ${frameTypeName(type)} frame in a plain stream`);
      }
      yield* settle(false);
    }
    throw new CairnError("stream", started ? "the stream ended without an END frame" : "empty stream: no START frame");
  } finally {
    await cutter.close();
  }
}
