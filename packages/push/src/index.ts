// @cairn/push: a sealed stream → a committed snapshot in one or more repositories
// (docs/repository.md, "Push"). Needs no key: it sees only sealed objects, ids and sizes.
import { CairnError, exitCodes, toCairnError } from "@cairn/errors";
import { FrameType, freeData, frameTypeName, type Frame } from "@cairn/protocol";
import type { Storage } from "@cairn/storage";
import { ID_SIZE, checkCommit, intersectIds, writeKnownFile } from "@cairn/repository";
import { PushTarget, type TargetStats } from "./target.js";
import { checkLockable, lockUntilFor, type LockRequest } from "./lock.js";

export type { LockRequest } from "./lock.js";
/** push --pack-size (and backup's): the range a repository config may hold. */
export { packSizeFlag } from "@cairn/repository";

export type { TargetStats } from "./target.js";

export interface PushOptions {
  /** Pack uploads in flight per repository (default 4). */
  jobs?: number;
  /** Local cache base directory, or false for none (default: $CAIRN_CACHE or ~/.cache/cairn). */
  cache?: string | false;
  /** Overrides the repository's target pack size (tests use small packs). */
  packSize?: number;
  /** Packs per index file (default 8); the rest are indexed at the end. */
  indexEvery?: number;
  /** Writes the known-chunk file: the ids every target holds afterwards. */
  knownOut?: string;
  /**
   * Called once the repositories are open, before the first frame is read, with the ids every
   * one of them holds (sorted): the fused backup's seal takes them as known ids.
   */
  onOpen?: (held: Uint8Array) => void;
  /** Object Lock: every object written is retained until start + days (docs/repository.md). */
  lock?: LockRequest;
  /** A warning line (without the tool prefix); default: stderr as cairn-push. */
  warn?: (message: string) => void;
}

export interface PushResult {
  targets: TargetStats[];
  /** 0 committed, 3 committed but partial, 4 committed but unverified, else the first failure's code. */
  exitCode: number;
  /** Set when some target failed: the first failure. */
  failure?: CairnError;
}

/**
 * Reads a sealed stream and commits it to every repository. The snapshot object is written only
 * after a valid END, after every pack and index file it depends on is stored, and only when the
 * stream's key set matches the repository's. A failing target never stops or damages the others.
 */
export async function push(frames: AsyncIterable<Frame>, storages: Storage[], opts: PushOptions = {}): Promise<PushResult> {
  if (storages.length === 0) throw new CairnError("usage", "push needs at least one repository");
  // A store that cannot lock is a usage error, found before the stream is read.
  if (opts.lock) for (const s of storages) checkLockable(s);
  const lock = opts.lock ? { until: lockUntilFor(opts.lock.days), mode: opts.lock.mode } : undefined;
  const targets = storages.map((s) => new PushTarget(s, { jobs: opts.jobs ?? 4, cache: opts.cache, packSize: opts.packSize, indexEvery: opts.indexEvery, lock, warn: opts.warn ?? ((m) => process.stderr.write(`cairn-push: warning: ${m}\n`)) }));
  await Promise.all(targets.map((t) => t.open().catch((err) => t.fail(err))));
  const live = () => targets.filter((t) => t.failure === undefined);
  const each = async (fn: (t: PushTarget) => unknown) => {
    for (const t of live()) {
      try {
        await fn(t);
      } catch (err) {
        t.fail(err);
      }
    }
    if (live().length === 0) throw targets[0].failure;
  };
  if (live().length === 0) throw targets[0].failure;
  if (opts.onOpen) {
    let held: Uint8Array | undefined;
    for (const t of live()) held = held === undefined ? t.heldAtOpen() : intersectIds(held, t.heldAtOpen());
    opts.onOpen(held ?? new Uint8Array(0));
  }

  try {
    return await pushStream(frames, targets, live, each, opts);
  } catch (err) {
    // Packs already on their way are worth finishing: a re-run finds them and uploads less.
    await Promise.all(targets.map((t) => t.settle()));
    throw err;
  }
}

async function pushStream(
  frames: AsyncIterable<Frame>,
  targets: PushTarget[],
  live: () => PushTarget[],
  each: (fn: (t: PushTarget) => unknown) => Promise<void>,
  opts: PushOptions,
): Promise<PushResult> {
  let start: Record<string, any> | undefined;
  let commit: Record<string, any> | undefined;
  let end: Record<string, any> | undefined;
  for await (const frame of frames) {
    switch (frame.type) {
      case FrameType.START:
        start = frame.meta!;
        await each((t) => t.checkStart(start!));
        break;
      case FrameType.SEALED: {
        const d = frame.data!;
        const kind = d[0];
        const id = d.subarray(1, 1 + ID_SIZE);
        const object = d.subarray(1 + ID_SIZE); // copied into the pack, never retained
        await each((t) => t.addObject(kind, id, object));
        // In a fused backup, seal's frames come here without a writer in between: free what
        // seal handed over (Frame.dispose) now that every target has copied it.
        if (frame.dispose) freeData(d);
        break;
      }
      case FrameType.SEALED_REF: {
        const d = frame.data!;
        await each((t) => t.addRef(d[0], d.subarray(1, 1 + ID_SIZE)));
        break;
      }
      case FrameType.SEAL_INFO:
        // `pull -i REPO SNAP PATH…` sends only the objects those paths need, and says so here:
        // committed, it would be a snapshot with its other data missing.
        if (Array.isArray(frame.meta?.select)) {
          throw new CairnError("stream", "this stream holds only the paths a restore selected (pull with PATHs): a snapshot cannot be pushed from it; nothing committed (use pull --raw, or pull without PATHs)");
        }
        break;
      case FrameType.COMMIT:
        if (commit) throw new CairnError("stream", "the stream carries two COMMIT frames");
        commit = frame.meta!;
        break;
      case FrameType.END:
        end = frame.meta!;
        break;
      default:
        throw new CairnError("stream", `push needs a sealed stream, but got a ${frameTypeName(frame.type)} frame`);
    }
  }
  if (!end) throw new CairnError("stream", "the stream ended without an end frame; nothing committed");
  if (!start) throw new CairnError("stream", "the stream has no START frame");
  if (!commit) throw new CairnError("stream", "the sealed stream carries no COMMIT frame; nothing committed");
  if (commit.keyset !== start.keyset) throw new CairnError("key", "the COMMIT's key set differs from the stream's START; nothing committed");
  // The snapshot object must be one that listSnapshots can read back, or it is committed but lost.
  checkCommit(commit, "the stream's COMMIT", "stream");

  await Promise.all(live().map((t) => t.commit(commit!).catch((err) => t.fail(err))));
  if (live().length === 0) throw targets[0].failure;
  // The snapshot is committed now: a known-ids file that cannot be written fails the run (the
  // next seal --known would read a stale one) but must say so, and the ids are still printed.
  let knownFailure: CairnError | undefined;
  if (opts.knownOut) {
    await writeKnown(opts.knownOut, targets).catch((err) => {
      const e = toCairnError(err);
      knownFailure = new CairnError(e.kind, `the snapshot is committed, but the known-ids file ${opts.knownOut} could not be written: ${e.message}`);
    });
  }

  const failed = targets.find((t) => t.failure !== undefined);
  const stats = targets.map((t) => t.finalStats());
  if (failed) return { targets: stats, exitCode: failed.failure!.exitCode, failure: failed.failure };
  if (knownFailure) return { targets: stats, exitCode: knownFailure.exitCode, failure: knownFailure };
  const partial = Number(end.partial ?? 0) > 0 || Number(commit.partial ?? 0) > 0;
  const unverified = end.unverified === true || commit.unverified === true;
  return { targets: stats, exitCode: partial ? exitCodes.partial : unverified ? exitCodes.unverified : exitCodes.ok };
}

/** What every target holds (so seal never refers to an object one of them lacks). */
async function writeKnown(path: string, targets: PushTarget[]): Promise<void> {
  let ids: Uint8Array | undefined;
  for (const t of targets) {
    const held = await t.heldIds().catch(() => new Uint8Array(0));
    ids = ids === undefined ? held : intersectIds(ids, held);
  }
  await writeKnownFile(path, ids ?? new Uint8Array(0));
}
