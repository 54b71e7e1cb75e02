// @cairn/pull: a snapshot in a repository → a sealed stream (docs/repository.md, "Pull").
// `--raw` needs no key: every object the snapshot's clear references name, in pack order.
import { CairnError } from "@cairn/errors";
import { FrameType, type Frame } from "@cairn/protocol";
import type { Storage } from "@cairn/storage";
import {
  ID_SIZE,
  LocalCache,
  listSnapshots,
  loadIndex,
  readConfig,
  readSnapshot,
  searchIds,
  selectSnapshot,
  type IndexTable,
  type Snapshot,
  type SnapshotFilter,
} from "@cairn/repository";
import { verifyCommit } from "@cairn/trust";
import { fetchObjects } from "./fetch.js";
import { referencedPositions } from "./references.js";

export { fetchObjects, type FetchItem } from "./fetch.js";
export { referencedPositions } from "./references.js";
export { repeatedTags, SNAPSHOT_FILTER_ARGS, CACHE_ARGS } from "./tags.js";

export interface OpenOptions extends SnapshotFilter {
  cache?: string | false;
  /**
   * The pinned writers, on a host that reads (pull -i, restore): `latest` or a date then means
   * the newest snapshot a pinned writer signed, so a snapshot object planted in the bucket (or
   * one from a writer this host does not trust) cannot stand in front of the real ones. Without
   * it (pull --raw, a transport host) every snapshot counts.
   */
  trusted?: ReadonlySet<string>;
  /** Where notes about skipped (damaged or untrusted) newer snapshots go. */
  warn?: (message: string) => void;
}

export interface OpenedSnapshot {
  snapshot: Snapshot;
  table: IndexTable;
}

/** How far ahead of this machine's clock `latest` and dates still choose a snapshot (prune's default bound). */
const MAX_SKEW_MS = 3_600_000;

/** Reads config, the snapshot list and the index, and picks the snapshot the selector names. */
export async function openSnapshot(storage: Storage, selector: string, opts: OpenOptions = {}): Promise<OpenedSnapshot> {
  const config = await readConfig(storage);
  const cache = LocalCache.forRepository(config.id, opts.cache);
  const snapshot = await chooseSnapshot(storage, cache, selector, opts);
  // Of an object listed more than once, the copy prune counts, not whichever an index file lists
  // first (docs/repository.md, "Copies planted next to real objects").
  const { table } = await loadIndex(storage, cache, { oldestCopy: true });
  return { snapshot, table };
}

/**
 * The snapshot a selector names (docs/repository.md, "Selecting a snapshot"): with
 * `opts.trusted`, `latest` and dates count only snapshots a pinned writer signed. `cache`: the
 * repository's local cache, or the repository is read for it.
 */
export async function chooseSnapshot(storage: Storage, cache: LocalCache | undefined, selector: string, opts: OpenOptions = {}): Promise<Snapshot> {
  cache ??= LocalCache.forRepository((await readConfig(storage)).id, opts.cache);
  // A full id names one object: read it alone (a damaged one throws its own error, 13), not all
  // of them (restore's worker opens the snapshot its main thread chose by id).
  if (/^[0-9a-f]{64}$/.test(selector)) {
    const one = await readSnapshot(storage, cache, selector);
    if (one) return selectSnapshot([one], selector, opts);
  }
  const damaged = new Map<string, CairnError>();
  const all = await listSnapshots(storage, cache, { onDamaged: (id, err) => damaged.set(id, err) });
  const byName = !(selector === "latest" || /^\d{4}-\d{2}-\d{2}/.test(selector));
  if (byName && /^[0-9a-f]{4,64}$/.test(selector)) {
    // A damaged snapshot object named by its id is reported as damaged, not as absent.
    const hits = [...damaged].filter(([id]) => id.startsWith(selector));
    // Its error names the snapshot and what is wrong with it (integrity, 13).
    if (hits.length === 1 && !all.some((s) => s.id.startsWith(selector))) throw hits[0][1];
  }
  let snapshot = selectSnapshot(all, selector, opts); // no such snapshot at all: notFound (15)
  if (opts.trusted && !byName) {
    // The newest snapshot the selector names that a pinned writer signed: each newer one it
    // names but no pinned writer signed is skipped, with a warning that says why.
    let left = all;
    let skipped = 0;
    for (;;) {
      try {
        verifyCommit(snapshot.commit as unknown as Record<string, unknown>, opts.trusted);
        // As prune and verify: a snapshot dated beyond the clock-skew bound (a writer with a wrong
        // clock, or a compromised one) is not a backup, and must not stay `latest` until that date.
        if (snapshot.time.getTime() > Date.now() + MAX_SKEW_MS) {
          throw new CairnError("integrity", `it is dated ${snapshot.commit.time}, more than an hour ahead of this machine's clock`);
        }
        break;
      } catch (err) {
        skipped++;
        opts.warn?.(`skipped the newer snapshot ${snapshot.id.slice(0, 12)}: ${(err as Error).message}`);
        const passed = snapshot;
        left = left.filter((s) => s !== passed);
      }
      try {
        snapshot = selectSnapshot(left, selector, opts);
      } catch (err) {
        if (!(err instanceof CairnError) || err.kind !== "notFound") throw err;
        throw new CairnError("key", `${err.message} signed by a pinned writer and not dated in the future (${skipped} newer snapshot(s) skipped, each named in a warning above)`);
      }
    }
  }
  if (!byName) for (const [id, err] of damaged) opts.warn?.(`${err.message} (skipped)`);
  return snapshot;
}

/** START as the snapshot's clear part describes it; the COMMIT goes right after it. */
export function startMeta(s: Snapshot): Record<string, unknown> {
  const c = s.commit;
  return {
    stream: "sealed",
    host: s.host,
    time: c.time,
    label: s.label,
    tags: s.tags,
    keyset: s.keyset,
    writer: s.writer,
    ...(c.partial ? { partial: c.partial } : {}),
    ...(c.unverified ? { unverified: true } : {}),
  };
}

export function endMeta(s: Snapshot, objects: number): Record<string, unknown> {
  const c = s.commit;
  return { objects, partial: typeof c.partial === "number" ? c.partial : c.partial ? 1 : 0, unverified: c.unverified === true };
}

export interface RawOptions {
  jobs?: number;
  /** Sorted ids the destination holds (a known file): sent as SEALED_REF instead of SEALED. */
  have?: Uint8Array;
  /** Filled in before the packs are read: how many will be checked against their names, and how many not. */
  stats?: { packsChecked: number; packsUnchecked: number };
}

/**
 * A pack of which the snapshot needs at least this share (in bytes) is read whole and checked
 * against its name, so that replication never passes on a damaged pack's objects: the
 * destination would store them in packs of its own, under new names that hash right, and only a
 * restore with the key would find the damage there. Packs needed less (older data shared with
 * other snapshots) are read as ranges, unchecked: reading them whole would read far more.
 */
export const CHECK_SHARE = 0.5;
/** Larger packs (a `--pack-size` above the default) are read as ranges, unchecked: one GET and one buffer each would otherwise be that large. */
export const CHECK_MAX = 64 * 1024 * 1024;

/** Every object the snapshot references, in pack order, as a sealed stream (no key needed). */
export async function* pullRaw(storage: Storage, opened: OpenedSnapshot, opts: RawOptions = {}): AsyncGenerator<Frame> {
  const { snapshot, table } = opened;
  const positions = await referencedPositions(storage, table, snapshot);
  yield { type: FrameType.START, meta: startMeta(snapshot) };
  yield { type: FrameType.COMMIT, meta: snapshot.commit };
  const have = opts.have;
  const toFetch: number[] = [];
  let objects = 0;
  for (const pos of positions) {
    if (have && searchIds(have, have.length / ID_SIZE, table.ids, pos) >= 0) {
      const ref = new Uint8Array(1 + ID_SIZE);
      ref[0] = table.kinds[pos];
      ref.set(table.idAt(pos), 1);
      yield { type: FrameType.SEALED_REF, data: ref };
      objects++;
    } else toFetch.push(pos);
  }
  const needed = new Float64Array(table.packCount);
  for (const pos of toFetch) needed[table.packs[pos]] += table.lengths[pos];
  const check = (pack: number) => needed[pack] >= CHECK_SHARE * table.packSizes[pack] && table.packSizes[pack] <= CHECK_MAX;
  if (opts.stats) for (let pack = 0; pack < table.packCount; pack++) if (needed[pack] > 0) check(pack) ? opts.stats.packsChecked++ : opts.stats.packsUnchecked++;
  for await (const [pos, bytes] of fetchObjects(storage, table, toFetch, { jobs: opts.jobs, wholePack: check })) {
    yield sealedFrame(table, pos, bytes);
    objects++;
  }
  yield { type: FrameType.END, meta: endMeta(snapshot, objects) };
}

/**
 * The SEALED frame for the object at table position pos: kind, id, then its stored bytes. The
 * payload is the frame's alone, so writeFrames frees it once written (Frame.dispose) instead of
 * leaving a pack's worth of copies to the garbage collector.
 */
export function sealedFrame(table: IndexTable, pos: number, bytes: Uint8Array): Frame {
  // Every byte is written below, so the buffer need not be zeroed first.
  const payload: Uint8Array = Buffer.allocUnsafeSlow(1 + ID_SIZE + bytes.length);
  payload[0] = table.kinds[pos];
  payload.set(table.idAt(pos), 1);
  payload.set(bytes, 1 + ID_SIZE);
  return { type: FrameType.SEALED, data: payload, dispose: true };
}

export function needKeyError(): CairnError {
  return new CairnError("usage", "restore order lives in the encrypted manifest: give the owner key with -i FILE (or set CAIRN_OWNER_KEY), or --raw for replication");
}
