// `cairn seal`: chunked stream → sealed stream (docs/sealing.md, "Sealed stream").
// Every carried chunk is re-checked against its id, compressed and sealed by the worker pool;
// the metadata goes into the manifest, which is cut, sealed and emitted ahead of the data it
// describes; the clear refs set, the signed COMMIT and END close the stream.
import { chunkId } from "@cairn/chunk/id";
import type { KeyObject } from "node:crypto";
import { CairnError } from "@cairn/errors";
import { FrameType, MAX_REF_WINDOW, RefWindow, validRefWindow, frameTypeName, freeData, ownsBuffer, type Frame } from "@cairn/protocol";
import { newSession } from "@cairn/age";
import { signCommit, COMMIT_VERSION, type UnsignedCommit } from "./commit.js";
import { ManifestCutter } from "./manifest-cutter.js";
import { MANIFEST_VERSION, RecordTag, chunkRecord, jsonRecord, type ManifestHeader } from "./manifest.js";
import { ID_SIZE, ObjectKind, encodeSealed, encodeSealedRef, hex } from "./objects.js";
import { SEAL_WORKER, WorkerPool } from "./pool.js";
import { Slot } from "./slot.js";
import { minorGc } from "./gc.js";
import type { SealInit } from "./seal-worker.js";
import { IdList, refsBlocks, sha256 } from "./refs.js";
import type { KnownIds } from "./known.js";

/** What `seal` needs of a writer key (@cairn/keys readWriterKey). */
export interface SealingKey {
  recipients: string[];
  idKey: Uint8Array;
  chunkerSecret: Uint8Array;
  signingKey: KeyObject;
  /** Hex Ed25519 public key. */
  publicKey: string;
  keyset: string;
}

export interface SealOptions {
  key: SealingKey;
  /** zstd level, default 3. */
  level?: number;
  /**
   * Ids the repository holds: such objects go out as SEALED_REF, unsealed. A promise is awaited
   * before the first frame is read (the fused backup's: push resolves it once it has opened the
   * repositories, before it asks for the first frame).
   */
  known?: KnownIds | Promise<KnownIds>;
  /** Worker threads (default: the machine's cores, at most 4). */
  workers?: number;
}

export const DEFAULT_LEVEL = 3;
/** Input bytes between minor collections of the main thread's dead buffers (gc.ts). */
export const GC_EVERY = 8 * 1024 * 1024;
/** Jobs in flight per worker: enough to keep them busy, few enough to keep memory flat. */
const JOBS_PER_WORKER = 3;

export async function* seal(frames: AsyncIterable<Frame>, opts: SealOptions): AsyncGenerator<Frame> {
  const { key } = opts;
  const known = await opts.known;
  const level = opts.level ?? DEFAULT_LEVEL;
  const it = frames[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done || first.value.type !== FrameType.START) throw new CairnError("stream", "the input has no START frame");
  const start = first.value.meta!;
  if (start.stream !== "chunked") {
    throw new CairnError("stream", `seal reads a chunked stream, but this one is "${start.stream}"${start.stream === "plain" ? " (put `cairn chunk` before seal)" : ""}`);
  }
  // What becomes the COMMIT's clear part, and the window every later reader replays: a START
  // without them would commit a snapshot of host "undefined", or one no reader can open.
  const bad = (why: string) => new CairnError("stream", `the chunked START ${why}: it cannot become a snapshot (docs/protocol.md, START)`);
  if (typeof start.host !== "string") throw bad("has no host");
  if (typeof start.time !== "string" || Number.isNaN(Date.parse(start.time))) throw bad("has no valid time");
  if (start.label !== undefined && typeof start.label !== "string") throw bad("has a label that is not a string");
  if (start.tags !== undefined && !(Array.isArray(start.tags) && start.tags.every((t: unknown) => typeof t === "string"))) throw bad("has tags that are not a list of strings");
  if (!validRefWindow(start.refWindow)) throw bad(`has no valid refWindow (${JSON.stringify(start.refWindow)}; 0 to ${MAX_REF_WINDOW} bytes)`);
  const clear = { time: start.time, host: start.host, label: start.label ?? "", tags: start.tags ?? [] };

  const session = await newSession(key.recipients);
  const init: SealInit = { session, idKey: key.idKey, level };
  const pool = new WorkerPool(SEAL_WORKER, init, opts.workers);
  const limit = pool.size * JOBS_PER_WORKER;
  try {
    yield { type: FrameType.START, meta: { stream: "sealed", ...clear, keyset: key.keyset, writer: key.publicKey } };

    const window = new RefWindow(start.refWindow);
    const cutter = new ManifestCutter(key.chunkerSecret);
    const ids = new IdList();
    const manifestIds = new IdList();
    let held: Slot[] = [];
    const out: Slot[] = [];
    let entries = 0;
    let end: Record<string, any> | undefined;
    let failure: unknown;
    let sinceGc = 0;
    let bytes = 0;

    // An object goes out as a reference when the repository holds it, else sealed by the pool.
    // `handOver`: data's whole ArrayBuffer is the caller's to give (a frame's, with Frame.dispose):
    // the pool moves it to a worker instead of copying it (any view of it then reads empty).
    const carry = async (kind: number, id: Uint8Array, data: Uint8Array, handOver = false): Promise<Slot> => {
      if (known?.has(id)) {
        if (handOver) (data.buffer as ArrayBuffer).transfer(0);
        return new Slot({ type: FrameType.SEALED_REF, data: encodeSealedRef(kind, id) });
      }
      await pool.below(limit);
      const slot = new Slot({ type: FrameType.SEALED, payload: pool.run(kind, id, data, {}, handOver), dispose: true });
      // A chunk that fails its id check stops the run now, not when its turn to go out comes.
      void slot.done.then(() => {
        if (slot.error !== undefined && failure === undefined) failure = slot.error;
      });
      return slot;
    };
    const cutManifest = async (plain: Uint8Array) => {
      const id = chunkId(key.idKey, plain);
      manifestIds.add(id);
      ids.add(id);
      out.push(await carry(ObjectKind.MANIFEST, id, plain), ...held);
      held = [];
    };
    const record = async (bytes: Uint8Array) => {
      const cut = cutter.append(bytes);
      if (cut) await cutManifest(cut);
    };

    const header: ManifestHeader = { v: MANIFEST_VERSION, ...clear, writer: key.publicKey, keyset: key.keyset, start };
    await record(jsonRecord(RecordTag.HEADER, header));

    for (;;) {
      const next = await it.next();
      if (next.done) throw new CairnError("stream", "the chunked stream ended without an END frame");
      const frame = next.value;
      switch (frame.type) {
        case FrameType.ENTRY:
          entries++;
          await record(jsonRecord(RecordTag.ENTRY, frame.meta));
          break;
        case FrameType.ENTRY_END:
          await record(jsonRecord(RecordTag.ENTRY_END, frame.meta));
          break;
        case FrameType.CHUNK: {
          const data = frame.data!;
          const id = data.subarray(0, ID_SIZE);
          const plain = data.subarray(ID_SIZE);
          bytes += plain.length;
          sinceGc += data.length;
          const name = hex(id);
          // Made before the payload may move to a worker (its views then read empty).
          const rec = chunkRecord(id, plain.length);
          const handOver = !!frame.dispose && ownsBuffer(data);
          if (!window.has(name)) {
            window.add(name, plain.length, undefined);
            ids.add(id);
            held.push(await carry(ObjectKind.DATA, new Uint8Array(id), plain, handOver));
          } else if (handOver) {
            freeData(data);
          }
          await record(rec);
          break;
        }
        case FrameType.CHUNK_REF: {
          const data = frame.data!;
          const id = data.subarray(0, ID_SIZE);
          const size = new DataView(data.buffer, data.byteOffset + ID_SIZE, 4).getUint32(0);
          if (!window.has(hex(id))) throw new CairnError("stream", `CHUNK_REF to chunk ${hex(id)}, which is not in the reference window`);
          bytes += size;
          await record(chunkRecord(id, size));
          break;
        }
        case FrameType.END: {
          const { frames: _f, bytes: _b, digest: _d, ...rest } = frame.meta!;
          end = rest;
          await record(jsonRecord(RecordTag.END, rest));
          break;
        }
        default:
          throw new CairnError("stream", `unexpected ${frameTypeName(frame.type)} frame in a chunked stream`);
      }
      if (failure !== undefined) throw failure;
      // Pass on what is finished, in order; wait for the oldest when too much is in flight.
      while (out.length && (out[0].settled || pool.inFlight >= limit)) yield await out.shift()!.take();
      if (sinceGc >= GC_EVERY) {
        sinceGc = 0;
        minorGc();
      }
      if (end) break;
    }

    const last = cutter.finish();
    if (last) await cutManifest(last);
    const rootPlain = manifestIds.bytesInOrder().slice();
    const rootId = chunkId(key.idKey, rootPlain);
    ids.add(rootId);
    out.push(await carry(ObjectKind.MANIFEST_ROOT, rootId, rootPlain));
    while (out.length) yield await out.shift()!.take();

    const sorted = ids.sortedUnique();
    const refCount = sorted.length / ID_SIZE;
    const blockIds: Uint8Array[] = [];
    for (const block of refsBlocks(sorted)) {
      const id = sha256(block);
      blockIds.push(id);
      yield known?.has(id)
        ? { type: FrameType.SEALED_REF, data: encodeSealedRef(ObjectKind.REFS, id) }
        : { type: FrameType.SEALED, data: encodeSealed(ObjectKind.REFS, id, block) };
    }
    const refsRoot = Buffer.concat(blockIds);
    const refsRootId = sha256(refsRoot);
    yield { type: FrameType.SEALED, data: encodeSealed(ObjectKind.REFS_ROOT, refsRootId, refsRoot) };

    const partial = typeof end!.partial === "number" && end!.partial > 0 ? end!.partial : undefined;
    const unverified = end!.unverified === true ? true : undefined;
    const unsigned: UnsignedCommit = {
      v: COMMIT_VERSION,
      ...clear,
      writer: key.publicKey,
      keyset: key.keyset,
      manifest: hex(rootId),
      refs: hex(refsRootId),
      stats: { entries, bytes, refs: refCount },
      ...(partial !== undefined ? { partial } : {}),
      ...(unverified ? { unverified } : {}),
    };
    yield { type: FrameType.COMMIT, meta: signCommit(unsigned, key.signingKey) };
    yield { type: FrameType.END, meta: { ...end } };
  } finally {
    await pool.close();
  }
}
