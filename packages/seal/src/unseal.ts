// `cairn seal -d`: sealed stream → chunked stream (docs/sealing.md, "Opening a sealed stream").
// Manifest chunks are opened as they arrive and their records replayed in order; each data
// chunk occurrence takes the next SEALED data frame, or becomes a CHUNK_REF when the reference
// window holds it. Every object is checked against its id under the owner's pinned id key;
// the manifest against its root, the root and the header against the signed COMMIT, and the
// clear refs set against the set the manifest implies.
import { createHash, timingSafeEqual } from "node:crypto";
import { CairnError } from "@cairn/errors";
import { DEFAULT_REF_WINDOW, FrameType, MAX_PAYLOAD, RefWindow, frameTypeName, ownsBuffer, validRefWindow, type Frame } from "@cairn/protocol";
import { FileKeyCache } from "@cairn/age";
import { verifyCommit, type Commit } from "./commit.js";
import { ManifestParser, RecordTag, bindHeader, checkHeader, type ManifestHeader, type ManifestRecord } from "./manifest.js";
import { ID_SIZE, ObjectKind, decodeSealed, hex, objectName } from "./objects.js";
import { IdList, sha256 } from "./refs.js";
import { OWNER_KEY_HINT, openObject } from "./open-object.js";
import { OPEN_WORKER, WorkerPool } from "./pool.js";
import { Slot } from "./slot.js";
import { minorGc } from "./gc.js";
import { GC_EVERY } from "./seal.js";
import type { OpenInit } from "./open-worker.js";
import { Selection } from "./selection.js";

export interface UnsealOptions {
  /** age identities (AGE-SECRET-KEY-…). */
  identities: string[];
  /** The pinned id key: ids and the manifest are checked under it. */
  idKey: Uint8Array;
  /** Hex Ed25519 public keys whose COMMIT signatures are accepted. */
  trusted: Set<string>;
  /**
   * The stream is filtered to these paths (and what lies under them): the entries outside them
   * carry no data objects and are not emitted. A SEAL_INFO frame {select: [...]} says the same.
   */
  select?: string[];
  /** Worker threads that open data chunks (default: the machine's cores, at most 4). */
  workers?: number;
}

/** Data chunks being opened per worker: enough to keep them busy, few enough to keep memory flat. */
const JOBS_PER_WORKER = 3;

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && timingSafeEqual(a, b);
const integrity = (message: string) => new CairnError("integrity", message);

export async function* unseal(frames: AsyncIterable<Frame>, opts: UnsealOptions): AsyncGenerator<Frame> {
  const cache = new FileKeyCache();
  const it = frames[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done || first.value.type !== FrameType.START) throw new CairnError("stream", "the input has no START frame");
  const start = first.value.meta!;
  if (start.stream !== "sealed") {
    throw new CairnError("stream", `seal -d reads a sealed stream, but this one is "${start.stream}"`);
  }

  let commit: Commit | undefined;
  let header: ManifestHeader | undefined;
  let window = new RefWindow(DEFAULT_REF_WINDOW);
  let currentChunk = "the first manifest chunk";
  const parser = new ManifestParser(() => currentChunk);
  let records: ManifestRecord[] = [];
  let next = 0;
  /** The chunk record waiting for its SEALED data frame. */
  let waiting: { id: Uint8Array; size: number } | undefined;
  let entry = "";
  let endMeta: Record<string, any> | undefined;
  let selection = opts.select ? new Selection(opts.select) : undefined;
  let skipping = false; // inside an entry the selection leaves out
  let emitted = 0;
  let sawManifest = false;

  const ids = new IdList(); // every id the manifest implies: data chunks, manifest chunks, root
  const manifestSeq = createHash("sha256"); // the manifest chunk ids in arrival order
  let manifestChunks = 0;
  let root: { id: Uint8Array; list: Buffer; count: number } | undefined;
  const refsContent = createHash("sha256");
  const refsBlockSeq = createHash("sha256");
  let refsRoot: { id: Uint8Array; hash: Buffer } | undefined;

  // Once a manifest chunk has opened, the identity is this snapshot's: an object it then cannot
  // open is damaged (a flipped bit in its recipient stanza) or foreign, not a question of which
  // key file to use (13, not 14).
  const keyIsDamage = (err: unknown): never => {
    if (err instanceof CairnError && err.kind === "key" && manifestChunks > 0) {
      throw integrity(`${err.message.replace(OWNER_KEY_HINT, "")}, though this identity opened the manifest: the object is damaged`);
    }
    throw err;
  };
  const open = (kind: number, id: Uint8Array, bytes: Uint8Array, limit: number): Promise<Buffer> =>
    openObject(kind, id, bytes, { identities: opts.identities, idKey: opts.idKey, cache, size: limit }).then((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength), keyIsDamage);

  // Checks the manifest header and the stream's START against the signed COMMIT once both are known.
  const bind = () => {
    if (commit && header) bindHeader(header, commit as unknown as Record<string, unknown>);
  };

  // Queues the frames of the records until one needs a data frame that has not arrived yet.
  const out: Slot[] = [];
  const emit = (frame: Frame) => out.push(new Slot(frame));
  function drain(): void {
    while (!waiting && next < records.length) {
      const r = records[next++];
      switch (r.tag) {
        case RecordTag.HEADER:
          header = checkHeader(r.meta, currentChunk);
          bind();
          if (!validRefWindow(header.start.refWindow)) throw integrity(`the manifest header's START has no valid refWindow (${JSON.stringify(header.start.refWindow)})`);
          window = new RefWindow(header.start.refWindow);
          emit({ type: FrameType.START, meta: header.start });
          break;
        case RecordTag.ENTRY:
          entry = typeof r.meta.path === "string" ? r.meta.path : "";
          skipping = selection !== undefined && !selection.has(r.meta);
          if (skipping) break;
          emitted++;
          emit({ type: FrameType.ENTRY, meta: r.meta });
          break;
        case RecordTag.ENTRY_END:
          if (skipping) break;
          emit({ type: FrameType.ENTRY_END, meta: r.meta });
          break;
        case RecordTag.CHUNK: {
          // An id in the window was added when its data came: the set grows with distinct carried chunks.
          if (skipping) {
            ids.add(r.id);
            break;
          }
          if (window.has(hex(r.id))) {
            const ref = new Uint8Array(ID_SIZE + 4);
            ref.set(r.id);
            new DataView(ref.buffer).setUint32(ID_SIZE, r.size);
            emit({ type: FrameType.CHUNK_REF, data: ref });
          } else {
            ids.add(r.id);
            waiting = r;
          }
          break;
        }
        case RecordTag.END:
          endMeta = r.meta;
          break;
      }
    }
    if (next === records.length) {
      records = [];
      next = 0;
    }
  }

  const init: OpenInit = { identities: opts.identities, idKey: opts.idKey };
  const pool = new WorkerPool(OPEN_WORKER, init, opts.workers);
  const limit = pool.size * JOBS_PER_WORKER;
  let failure: unknown;
  let sinceGc = 0;
  try {
    for (;;) {
      if (failure !== undefined) throw failure;
      // Pass on what is ready, in order; wait for the oldest when too much is in flight.
      while (out.length && (out[0].settled || pool.inFlight >= limit)) yield await out.shift()!.take();
      const step = await it.next();
      if (step.done) throw new CairnError("stream", "the sealed stream ended without an END frame");
      const frame = step.value;
      switch (frame.type) {
        case FrameType.SEALED: {
          const obj = decodeSealed(frame.data!, false);
          const name = objectName(obj.kind, obj.id);
          switch (obj.kind) {
            case ObjectKind.MANIFEST: {
              sawManifest = true;
              if (waiting) throw new CairnError("stream", `${name} arrived while data chunk ${hex(waiting.id)} of ${entry || "an entry"} was still expected (missing data chunk)`);
              // When the root came first (pull's order), each chunk is checked against it on arrival.
              if (root && (manifestChunks >= root.count || !sameBytes(root.list.subarray(manifestChunks * ID_SIZE, (manifestChunks + 1) * ID_SIZE), obj.id))) {
                throw integrity(`${name} is not the manifest chunk that ${objectName(ObjectKind.MANIFEST_ROOT, root.id)} lists at position ${manifestChunks + 1}`);
              }
              currentChunk = name;
              const plain = await open(obj.kind, obj.id, obj.bytes!, MAX_PAYLOAD);
              manifestSeq.update(obj.id);
              manifestChunks++;
              ids.add(obj.id);
              records = records.concat(parser.push(plain));
              drain();
              break;
            }
            case ObjectKind.DATA: {
              if (!waiting) throw new CairnError("stream", `${name} is not described by any manifest chunk before it`);
              if (!sameBytes(obj.id, waiting.id)) throw integrity(`the stream carries ${name} where the manifest expects data chunk ${hex(waiting.id)} of ${entry || "an entry"}`);
              window.add(hex(obj.id), waiting.size, undefined);
              await pool.below(limit);
              // Memory pull handed over with the frame moves on to the worker instead of being copied.
              const handOver = !!frame.dispose && ownsBuffer(frame.data!);
              const payload = pool.run(obj.kind, obj.id, obj.bytes!, { size: waiting.size, exact: true }, handOver).catch(keyIsDamage);
              const slot = new Slot({ type: FrameType.CHUNK, payload, dispose: true });
              void slot.done.then(() => {
                if (slot.error !== undefined && failure === undefined) failure = slot.error;
              });
              out.push(slot);
              waiting = undefined;
              drain();
              break;
            }
            case ObjectKind.MANIFEST_ROOT: {
              if (root) throw new CairnError("stream", `a second manifest root (${name})`);
              if (commit && commit.manifest !== hex(obj.id)) throw swapped(name, commit);
              const plain = await open(obj.kind, obj.id, obj.bytes!, MAX_PAYLOAD);
              if (plain.length % ID_SIZE !== 0 || plain.length === 0) throw integrity(`${name} is not a list of manifest chunk ids`);
              root = { id: new Uint8Array(obj.id), list: plain, count: plain.length / ID_SIZE };
              ids.add(obj.id);
              break;
            }
            case ObjectKind.REFS: {
              if (!sameBytes(sha256(obj.bytes!), obj.id)) throw integrity(`${name} does not match its id (SHA-256): tampered`);
              if (obj.bytes!.length % ID_SIZE !== 0) throw integrity(`${name} is not a list of ids`);
              refsContent.update(obj.bytes!);
              refsBlockSeq.update(obj.id);
              break;
            }
            case ObjectKind.REFS_ROOT: {
              if (refsRoot) throw new CairnError("stream", `a second refs root (${name})`);
              if (!sameBytes(sha256(obj.bytes!), obj.id)) throw integrity(`${name} does not match its id (SHA-256): tampered`);
              if (commit && commit.refs !== hex(obj.id)) throw integrity(`${name} is not the refs root the signed COMMIT names (${commit.refs})`);
              refsRoot = { id: new Uint8Array(obj.id), hash: sha256(obj.bytes!) };
              break;
            }
          }
          break;
        }
        case FrameType.SEALED_REF: {
          const obj = decodeSealed(frame.data!, true);
          throw new CairnError("stream", `the stream refers to ${objectName(obj.kind, obj.id)} without carrying it: it was made with --known; pipe it to push`);
        }
        case FrameType.COMMIT: {
          if (commit) throw new CairnError("stream", "a second COMMIT frame");
          commit = verifyCommit(frame.meta!, opts.trusted);
          for (const f of ["writer", "keyset", "time", "host"] as const) {
            if (start[f] !== commit[f]) throw integrity(`the stream's START ${f} (${JSON.stringify(start[f])}) is not the signed COMMIT's (${JSON.stringify(commit[f])})`);
          }
          if (root && commit.manifest !== hex(root.id)) throw swapped(objectName(ObjectKind.MANIFEST_ROOT, root.id), commit);
          if (refsRoot && commit.refs !== hex(refsRoot.id)) throw integrity(`${objectName(ObjectKind.REFS_ROOT, refsRoot.id)} is not the refs root the signed COMMIT names (${commit.refs})`);
          bind();
          break;
        }
        case FrameType.SEAL_INFO: {
          const select = frame.meta!.select;
          if (select === undefined) break;
          if (!Array.isArray(select) || !select.every((p) => typeof p === "string")) throw new CairnError("stream", "SEAL_INFO's select is not a list of paths");
          if (sawManifest) throw new CairnError("stream", "SEAL_INFO with select arrived after the manifest began");
          selection = new Selection(select);
          break;
        }
        case FrameType.END: {
          while (out.length) yield await out.shift()!.take();
          if (waiting) throw new CairnError("stream", `the stream ended before data chunk ${hex(waiting.id)} of ${entry || "an entry"}`);
          if (!commit) throw new CairnError("stream", "the sealed stream has no COMMIT: nothing proves who wrote it");
          if (!header) throw new CairnError("stream", "the sealed stream carries no manifest");
          if (!root) throw new CairnError("stream", "the sealed stream has no manifest root");
          if (!refsRoot) throw new CairnError("stream", "the sealed stream has no refs root");
          parser.finish();
          const rootName = objectName(ObjectKind.MANIFEST_ROOT, root.id);
          if (manifestChunks !== root.count || !sameBytes(manifestSeq.digest(), sha256(root.list))) {
            throw integrity(`the manifest chunks in the stream are not the ${root.count} that ${rootName} lists, in its order`);
          }
          if (!sameBytes(refsBlockSeq.digest(), refsRoot.hash)) {
            throw integrity(`the refs blocks in the stream are not the ones ${objectName(ObjectKind.REFS_ROOT, refsRoot.id)} lists`);
          }
          const implied = createHash("sha256").update(ids.sortedUnique()).digest();
          if (!sameBytes(implied, refsContent.digest())) {
            throw integrity(`the clear reference set (refs root ${hex(refsRoot.id)}) disagrees with the manifest: it does not list exactly the objects the snapshot uses`);
          }
          yield { type: FrameType.END, meta: selection ? { ...endMeta, entries: emitted } : { ...endMeta } };
          return;
        }
        default:
          throw new CairnError("stream", `unexpected ${frameTypeName(frame.type)} frame in a sealed stream`);
      }
    }
  } finally {
    await pool.close();
  }
}

function swapped(rootName: string, commit: Commit): CairnError {
  return integrity(`${rootName} is not the manifest root the signed COMMIT names (${commit.manifest}): a manifest swapped in from another snapshot`);
}

