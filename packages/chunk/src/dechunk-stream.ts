import { timingSafeEqual } from "node:crypto";
import { CairnError } from "@cairn/errors";
import { FrameType, RefWindow, frameTypeName, ownedCopy, ownsBuffer, validRefWindow, type Frame } from "@cairn/protocol";
import { ID_SIZE } from "./chunk-id.js";
import { MacWorker } from "./mac-worker.js";
import { entryLabel, upstreamError } from "./stream-errors.js";

export interface DechunkOptions {
  /** The pinned id key: every chunk is checked against its id with it. */
  idKey: Uint8Array;
  /**
   * The chunks come from a stage in this process that has already checked each one against its
   * id with this same pinned key (`unseal` opens a chunk only if its plaintext matches its id):
   * skip the second check. Never for input read from a pipe or a file.
   */
  idsChecked?: boolean;
}

/** How much chunk data may wait for its check: memory stays within the window plus this. */
const MAX_INFLIGHT_BYTES = 8 * 1024 * 1024;
const MAX_INFLIGHT = 8;

/** A chunk or reference of the current entry, in stream order, waiting to go out as DATA. */
interface Pending {
  /** "chunk 3 (id 0123…) of entry "a/b"": how errors name it. */
  where: string;
  id: Uint8Array;
  size: number;
  /** CHUNK: its payload and MAC, once computed; CHUNK_REF: undefined. */
  checked?: Promise<{ bytes: Uint8Array; mac: Buffer }>;
}

/**
 * A chunk's data, kept in the reference window and lent out with DATA frames (Frame.written).
 * `owned`: this stage frees that buffer once the chunk has left the window (`left`) and no frame
 * that carries it is still being written (`lent`).
 */
interface Kept {
  data: Uint8Array;
  owned: ArrayBuffer;
  lent: number;
  left: boolean;
}

const free = (kept: Kept) => {
  if (!kept.owned.detached) kept.owned.transfer(0);
};

/** The window lets go of a chunk: freed now, or once the last frame that carries it is written. */
function leave(kept: Kept): void {
  kept.left = true;
  if (kept.lent === 0) free(kept);
}

/** A DATA frame that lends the chunk's memory until it is written (Frame.written). */
function lend(kept: Kept): Frame {
  kept.lent++;
  let done = false;
  const written = () => {
    if (done) return; // once per frame, however often it is called
    done = true;
    if (--kept.lent === 0 && kept.left) free(kept);
  };
  return { type: FrameType.DATA, data: kept.data, written };
}

/**
 * The `chunk -d` stage: chunked stream → plain stream. Every CHUNK is checked against its id
 * before its data goes out as DATA (the MACs run on a worker thread, in order); a CHUNK_REF is
 * resolved from this stage's own replay of the reference window, so memory stays within the
 * window plus the chunks being checked. It takes ownership of CHUNK payloads: one that owns its
 * whole ArrayBuffer may be transferred to the worker (the caller's view of it then reads empty),
 * and is freed once it has left the window and its DATA frames are written; one that does not is
 * copied before the next frame is asked for, so the input may free its memory then
 * (decodeFrames' `borrow`).
 *
 * Each DATA frame lends its chunk's memory, the very memory the window keeps, until it is
 * written (Frame.written): no copy per chunk. A chunk that leaves the window is freed once the
 * last frame that carries it is written (writeFrames says so, and so does a fused restore's file
 * writer).
 */
export async function* dechunkStream(frames: AsyncIterable<Frame>, opts: DechunkOptions): AsyncGenerator<Frame> {
  let macs: MacWorker | undefined; // started with the first chunk to check (none: idsChecked)
  let started = false;
  let window = new RefWindow<Kept>(0); // replaced by START's window
  let entry: Record<string, any> | undefined;
  let index = 0; // chunk number within the entry, from 0
  const queue: Pending[] = [];
  let queuedBytes = 0;

  function where(id: Uint8Array): string {
    return `chunk ${index} (id ${Buffer.from(id).toString("hex").slice(0, 16)}…) of ${entryLabel(entry!)}`;
  }

  /** Sends queued chunks as DATA, in order: all of them, or until few enough wait. */
  async function* settle(all: boolean): AsyncGenerator<Frame> {
    while (queue.length > 0 && (all || queuedBytes > MAX_INFLIGHT_BYTES || queue.length > MAX_INFLIGHT)) {
      const item = queue.shift()!;
      queuedBytes -= item.checked ? item.size : 0;
      const key = Buffer.from(item.id).toString("hex");
      let kept: Kept;
      if (item.checked) {
        const { bytes, mac } = await item.checked;
        if (!timingSafeEqual(mac, bytes.subarray(0, ID_SIZE))) {
          throw new CairnError("integrity", `${item.where} does not match its id: the data is corrupt, or the id key is not the one it was written with`);
        }
        kept = keep(bytes);
        window.add(key, kept.data.length, kept);
        // Not kept (larger than the window, or a repeat): freed once its frame is written.
        if (window.get(key) !== kept) kept.left = true;
      } else {
        const found = window.get(key);
        if (!found) throw new CairnError("stream", `${item.where} refers to a chunk that is not in the reference window`);
        if (found.data.length !== item.size) throw new CairnError("stream", `${item.where} refers to a chunk of ${item.size} bytes, but that chunk has ${found.data.length}`);
        kept = found;
      }
      yield lend(kept);
    }
  }

  try {
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
          if (!validRefWindow(refWindow)) {
            throw new CairnError("stream", `the START frame's refWindow ${JSON.stringify(refWindow)} is not a valid window size`);
          }
          started = true;
          window = new RefWindow<Kept>(refWindow, leave);
          yield { type, meta: { stream: "plain", ...rest } };
          break;
        }
        case FrameType.ENTRY:
          yield* settle(true);
          entry = frame.meta!;
          index = 0;
          yield frame;
          break;
        case FrameType.CHUNK: {
          if (!entry) throw new CairnError("stream", "a CHUNK frame outside any entry");
          const payload = frame.data!;
          if (payload.length < ID_SIZE) throw new CairnError("stream", `a CHUNK frame of ${payload.length} bytes in ${entryLabel(entry)}: too short to hold an id`);
          const id = Buffer.from(payload.subarray(0, ID_SIZE)); // a copy: the payload may travel to the worker
          // A view into a larger buffer (a chunk decoded from a pipe or file lies in the decoder's
          // input slab, freed once the next frame is asked for) is copied now: the window keeps it.
          const own = ownsBuffer(payload) ? payload : ownedCopy(payload);
          const size = payload.length - ID_SIZE; // before the payload may move to the worker (it then reads empty)
          const checked = opts.idsChecked ? Promise.resolve({ bytes: own, mac: id }) : (macs ??= new MacWorker(opts.idKey)).mac(own, ID_SIZE);
          checked.catch(() => {}); // awaited in settle(); if the stage fails first, nobody will
          queue.push({ where: where(id), id, size, checked });
          queuedBytes += size;
          index++;
          yield* settle(false);
          break;
        }
        case FrameType.CHUNK_REF: {
          if (!entry) throw new CairnError("stream", "a CHUNK_REF frame outside any entry");
          const ref = frame.data!;
          if (ref.length !== ID_SIZE + 4) throw new CairnError("stream", `a CHUNK_REF frame of ${ref.length} bytes in ${entryLabel(entry)} (expected ${ID_SIZE + 4})`);
          const id = Buffer.from(ref.subarray(0, ID_SIZE)); // a copy: the frame's memory may be freed next
          const size = new DataView(ref.buffer, ref.byteOffset + ID_SIZE, 4).getUint32(0);
          queue.push({ where: where(id), id, size });
          index++;
          yield* settle(false);
          break;
        }
        case FrameType.ENTRY_END:
          if (!entry) throw new CairnError("stream", "an ENTRY_END frame outside any entry");
          yield* settle(true);
          entry = undefined;
          yield frame;
          break;
        case FrameType.END: {
          yield* settle(true);
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
  } finally {
    window.clear();
    await macs?.close();
  }
}

/** What the window keeps of a checked CHUNK payload (id and data, in memory of its own): the data. */
function keep(payload: Uint8Array): Kept {
  return { data: payload.subarray(ID_SIZE), owned: payload.buffer as ArrayBuffer, lent: 0, left: false };
}
