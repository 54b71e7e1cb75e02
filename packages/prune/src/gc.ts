// Garbage collection (docs/prune.md, "Garbage collection"; docs/repository.md): marks plus a grace
// period measured in the store's own timestamps.
//
//   1. index packs a dead push left unindexed (older than the grace period);
//   2. flag every object the remaining snapshots reference (clear refs), in typed arrays;
//   3. a marked pack that a snapshot references again is unmarked; an unmarked pack nothing
//      references (older than the grace period) is marked; a pack mostly garbage is repacked
//      (live objects copied into new packs + an index file) and then marked, but not while other
//      packs hold copies of its live objects (copies.ts: those go first);
//   4. a pack whose mark is older than the grace period (store time) is deleted, unless a fresh
//      listing of snapshots, taken after that check, references it, or it holds the oldest copy
//      of a referenced object and no copy with its bytes would be the oldest left (then it is
//      unmarked);
//   5. the index is compacted (files that list deleted packs are superseded), stale multipart
//      uploads aborted, and on versioned buckets old versions of garbage purged.
// Any sign of damage (a kept snapshot's references unreadable, a referenced object no index lists,
// an indexed pack that holds live objects but is gone) stops every write: nothing is marked or
// deleted on a repository that cannot be trusted to say what it needs.
import { createHash } from "node:crypto";
import { CairnError } from "@cairn/errors";
import type { Storage } from "@cairn/storage";
import {
  compareIds,
  kindName,
  parseTrailer,
  readPackTrailer,
  toHex,
  ID_SIZE,
  IndexTable,
  LocalCache,
  MARKS_PREFIX,
  PACKS_PREFIX,
  INDEX_PREFIX,
  SNAPSHOTS_PREFIX,
  PACK_ENTRY_SIZE,
  PackBuilder,
  decodeIndexFile,
  encodeIndexFile,
  idFromKey,
  indexKey,
  indexPacksFromTrailers,
  listIds,
  listSnapshots,
  loadIndex,
  mapLimit,
  markKey,
  packKey,
  packTimes,
  readConfig,
  type IndexFile,
  type IndexedPack,
  type Listed,
  type PackEntry,
  type Snapshot,
} from "@cairn/repository";
import { Liveness, isMissing } from "./references.js";
import { anchorsToKeep, sharedLive, type Compared } from "./copies.js";
import type { Remover } from "./remover.js";
import { isStaleProbe } from "./store-clock.js";

export interface GcOptions {
  graceMs: number;
  /** Repack a pack when at least this fraction of its bytes is garbage (0–1; above 1: never). */
  repackThreshold: number;
  dryRun: boolean;
  jobs: number;
  cache: LocalCache;
  now: Date;
  remover: Remover;
  /** Ids of snapshots that count as real backups: their references must be readable. */
  trusted: ReadonlySet<string>;
  /** Snapshot ids being removed by this run: not counted (they may still be listed in a dry run). */
  removing: ReadonlySet<string>;
  extendLocksDays?: number;
  /** Damage found before the collection (a snapshot object that cannot be read): it stops every mark and deletion. */
  damage?: string[];
  log?: (line: string) => void;
}

export interface GcReport {
  packs: number;
  packBytes: number;
  livePacks: number;
  marked: string[];
  unmarked: string[];
  deleted: string[];
  deletedBytes: number;
  repacked: string[];
  repackedInto: string[];
  /** Garbage packs left alone: younger than the grace period (perhaps a push in progress). */
  young: number;
  /** Marked packs whose mark is younger than the grace period. */
  waiting: number;
  indexedFromTrailers: number;
  indexFilesWritten: number;
  indexFilesDeleted: number;
  multipartAborted: number;
  versionsPurged: number;
  locksExtended: number;
  problems: string[];
}

/** Index files are kept in memory as read by loadIndex, so the compaction does not fetch them twice. */
class RecordingCache extends LocalCache {
  readonly seen = new Map<string, Uint8Array>();
  constructor(inner: LocalCache) {
    super(inner.dir);
  }
  override async read(key: string): Promise<Uint8Array | undefined> {
    const b = await super.read(key);
    if (b) this.seen.set(key, b);
    return b;
  }
  override async write(key: string, bytes: Uint8Array): Promise<boolean> {
    this.seen.set(key, bytes);
    return super.write(key, bytes);
  }
}

function packIdsOf(files: IndexFile[]): Set<string> {
  const ids = new Set<string>();
  for (const f of files) for (let i = 0; i < f.packSizes.length; i++) ids.add(Buffer.from(f.packIds.subarray(i * ID_SIZE, (i + 1) * ID_SIZE)).toString("hex"));
  return ids;
}

export async function collectGarbage(storage: Storage, snapshots: Snapshot[], opts: GcOptions): Promise<GcReport> {
  const log = opts.log ?? (() => {});
  const r: GcReport = {
    packs: 0, packBytes: 0, livePacks: 0, marked: [], unmarked: [], deleted: [], deletedBytes: 0, repacked: [], repackedInto: [],
    young: 0, waiting: 0, indexedFromTrailers: 0, indexFilesWritten: 0, indexFilesDeleted: 0, multipartAborted: 0, versionsPurged: 0, locksExtended: 0, problems: [],
  };
  r.problems.push(...(opts.damage ?? []));
  const oldEnough = (t: Date) => t.getTime() <= opts.now.getTime() - opts.graceMs;
  const config = await readConfig(storage);

  // 1. The index, with packs a dead push never indexed (young ones may be a push in progress).
  let cache = new RecordingCache(opts.cache);
  let loaded = await loadIndex(storage, cache, { jobs: opts.jobs });
  let files = loaded.files.map((name) => decodeIndexFile(cache.seen.get(indexKey(name))!, name));
  const packs = await listIds(storage, PACKS_PREFIX);
  const indexed = packIdsOf(files);
  const orphans = [...packs].filter(([id, p]) => !indexed.has(id) && oldEnough(p.mtime)).map(([id, p]) => ({ id, size: p.size }));
  if (orphans.length > 0 && !opts.dryRun) {
    const written = await indexPacksFromTrailers(storage, orphans, { jobs: opts.jobs, onDamaged: (id, err) => r.problems.push(`pack ${id} is not indexed and its trailer cannot be read: ${(err as Error).message} (cairn repair moves it aside)`) });
    r.indexedFromTrailers = written.length;
    cache = new RecordingCache(opts.cache);
    loaded = await loadIndex(storage, cache, { jobs: opts.jobs });
    files = loaded.files.map((name) => decodeIndexFile(cache.seen.get(indexKey(name))!, name));
  } else if (orphans.length > 0) {
    log(`${orphans.length} packs are not indexed (a push died before indexing them); a real run indexes them first`);
  }
  // marks/ once: the marks, and the clock probes that runs killed mid-probe left a day or more ago
  // (removed with the other housekeeping, at the end).
  const dayAgo = new Date(opts.now.getTime() - 86_400_000);
  const marks = new Map<string, Listed>();
  const staleProbes: string[] = [];
  for await (const o of storage.list(MARKS_PREFIX)) {
    const id = idFromKey(o.key, MARKS_PREFIX);
    if (id) marks.set(id, { size: o.size, mtime: o.mtime });
    else if (isStaleProbe(o, dayAgo)) staleProbes.push(o.key);
  }
  const marked = new Set([...loaded.marks].filter((m) => marks.has(m)));
  const allPacks = packIdsOf(files);
  const unmarked = IndexTable.build(files, marked, { copies: true });
  const markedTable = IndexTable.build(files, new Set([...allPacks].filter((p) => !marked.has(p))), { copies: true });
  // Where the clear refs are read: of an object listed more than once, the copy that counts (the
  // oldest pack, marked ones included), so that a copy planted next to a refs object with other
  // bytes cannot make a snapshot's references look unreadable and stop every run.
  const everyCopy = IndexTable.build(files, new Set(), { copies: true });
  const all = everyCopy.oldestCopies(packTimes(everyCopy, packs));
  r.packs = allPacks.size;
  for (const [, p] of packs) r.packBytes += p.size;
  // Where an object is listed more than once, which copy counts decides what may go: each such
  // listing must be what its pack's own trailer says (an index file is only a claim).
  r.problems.push(...(await checkCopies(storage, unmarked, markedTable, packs, opts.jobs)));

  // 2. What the snapshots reference.
  const packTime = packTimes(unmarked, packs);
  const live = new Liveness(unmarked, markedTable, all, packTime);
  const counted = new Set<string>();
  for (const s of snapshots) {
    if (opts.removing.has(s.id)) continue;
    counted.add(s.id);
    try {
      await live.addSnapshot(storage, s);
    } catch (err) {
      if (!isMissing(err)) throw err;
      const msg = `snapshot ${s.id}: its references cannot be read: ${(err as Error).message}`;
      if (opts.trusted.has(s.id)) r.problems.push(msg);
      else log(`${msg} (an untrusted snapshot: reported, not protected)`);
    }
  }
  if (live.missing > 0) r.problems.push(`${live.missing} referenced objects are in no index file (e.g. ${live.firstMissing}): run cairn verify, then cairn repair`);

  // 3. Per pack: live objects and bytes (unmarked packs), and whether a marked pack is needed again.
  const liveCount = new Uint32Array(unmarked.packCount);
  const liveBytes = new Float64Array(unmarked.packCount);
  const objectCount = new Uint32Array(unmarked.packCount);
  for (let i = 0; i < unmarked.size; i++) {
    objectCount[unmarked.packs[i]]++;
    if (!live.live[i]) continue;
    liveCount[unmarked.packs[i]]++;
    liveBytes[unmarked.packs[i]] += unmarked.lengths[i];
  }
  const neededMarked = new Uint8Array(markedTable.packCount);
  for (let i = 0; i < markedTable.size; i++) if (live.liveMarked[i]) neededMarked[markedTable.packs[i]] = 1;

  const toMark: string[] = [];
  const toRepack: number[] = [];
  for (let p = 0; p < unmarked.packCount; p++) {
    const id = unmarked.packIdAt(p);
    const listed = packs.get(id);
    if (liveCount[p] > 0) {
      r.livePacks++;
      if (!listed) {
        r.problems.push(`pack ${id} holds objects that snapshots reference but is missing from the store`);
        continue;
      }
      // Garbage share of the pack's object bytes (its trailer is not garbage: a repacked copy has one too).
      const objectBytes = unmarked.packSizes[p] - 16 - PACK_ENTRY_SIZE * objectCount[p];
      const garbage = objectBytes > 0 ? 1 - liveBytes[p] / objectBytes : 0;
      if (garbage > 0 && garbage >= opts.repackThreshold && oldEnough(listed.mtime)) toRepack.push(p);
      continue;
    }
    if (listed && !oldEnough(listed.mtime)) {
      r.young++;
      continue;
    }
    toMark.push(id);
  }
  // A pack whose live objects other packs hold too waits; the unmarked packs that hold those
  // copies are repacked first, whatever their garbage share, so that the copies go (copies.ts).
  // Each holder is younger than the pack it holds copies for (the oldest copy counts), so this ends.
  const chosen = new Set(toRepack);
  let shared = sharedLive(unmarked, markedTable, live.live, chosen, packs);
  for (;;) {
    const forced = [...shared.holders].filter((q) => !chosen.has(q) && liveCount[q] > 0 && oldEnough(packs.get(unmarked.packIdAt(q))!.mtime));
    if (forced.length === 0) break;
    for (const q of forced) chosen.add(q);
    shared = sharedLive(unmarked, markedTable, live.live, chosen, packs);
  }
  const repackable = [...chosen].filter((p) => !shared.blocked.has(p));
  const toUnmark: string[] = [];
  const candidates: string[] = [];
  for (let p = 0; p < markedTable.packCount; p++) {
    const id = markedTable.packIdAt(p);
    if (neededMarked[p]) toUnmark.push(id);
    else if (oldEnough(marks.get(id)!.mtime)) candidates.push(id);
    else r.waiting++;
  }
  // A mark whose pack no live index file lists and the store lacks is left from a finished deletion.
  const staleMarks = [...marks.keys()].filter((m) => !allPacks.has(m) && !packs.has(m));

  if (r.problems.length > 0) {
    log("the repository shows damage: nothing is marked, repacked or deleted");
    return r;
  }

  // Object Lock: a locked pack is never marked, repacked or deleted.
  const lockedOut = async (ids: string[]) => {
    if (!opts.remover.objectLock) return ids;
    const keep: string[] = [];
    for (const id of ids) {
      const until = await opts.remover.lockedUntil(packKey(id));
      if (until) opts.remover.keptForLock.push({ key: packKey(id), until: until.toISOString() });
      else keep.push(id);
    }
    return keep;
  };
  const markNow = await lockedOut(toMark);
  const repackNow = (await lockedOut(repackable.map((p) => unmarked.packIdAt(p)))).map((id) => unmarked.findPack(id));

  if (opts.dryRun) {
    r.marked = markNow;
    r.unmarked = toUnmark;
    r.deleted = candidates;
    for (const id of candidates) r.deletedBytes += packs.get(id)?.size ?? 0;
    r.repacked = repackNow.map((p) => unmarked.packIdAt(p));
    return r;
  }

  // Repack: copy the live objects of mostly-garbage packs into new packs, index them, then mark the old.
  if (repackNow.length > 0) await repack(storage, unmarked, live.live, repackNow, config.packSize, r);
  // A repacked copy identical to its source (same objects, same order) has the source's name: never mark it.
  const marksToWrite = [...markNow, ...r.repacked].filter((id) => !r.repackedInto.includes(id));
  r.repacked = r.repacked.filter((id) => !r.repackedInto.includes(id));
  await mapLimit(marksToWrite, opts.jobs, (id) => storage.put(markKey(id), new Uint8Array(0)));
  r.marked = marksToWrite;
  await mapLimit(toUnmark, opts.jobs, (id) => opts.remover.remove(markKey(id)));
  r.unmarked = toUnmark;

  // 4. Deletion: snapshots listed again now; one that references a candidate saves it.
  // Snapshots committed since step 2 may live in packs this run has not loaded: read their refs
  // through a freshly loaded index. An id found in none of this run's tables is in a new pack,
  // which is no candidate; a snapshot whose refs cannot be read at all stops the deletions.
  const fresh = await listSnapshots(storage, opts.cache, { jobs: opts.jobs });
  const freshMarked = new Set(marksToWrite);
  const newcomers = fresh.filter((s) => !counted.has(s.id) && !opts.removing.has(s.id));
  let unreadable: string | undefined;
  if (newcomers.length > 0) {
    const reader = (await loadIndex(storage, new LocalCache(opts.cache.dir), { jobs: opts.jobs, oldestCopy: true })).table;
    for (const s of newcomers) {
      try {
        await live.addSnapshot(storage, s, { reader });
      } catch (err) {
        if (!isMissing(err)) throw err;
        unreadable ??= `snapshot ${s.id}, committed during this prune: its references cannot be read yet (${(err as Error).message})`;
      }
    }
  }
  if (unreadable) {
    log(`${unreadable}: nothing deleted in this run; the next run will`);
    r.waiting += candidates.length;
    return r;
  }
  const saved = new Set<string>();
  for (let i = 0; i < markedTable.size; i++) if (live.liveMarked[i]) saved.add(markedTable.packIdAt(markedTable.packs[i]));
  for (let i = 0; i < unmarked.size; i++) {
    if (!live.live[i]) continue;
    const id = unmarked.packIdAt(unmarked.packs[i]);
    if (freshMarked.has(id) && !r.repacked.includes(id)) saved.add(id);
  }
  const rescue = [...saved].filter((id) => !toUnmark.includes(id));
  await mapLimit(rescue, opts.jobs, (id) => opts.remover.remove(markKey(id)));
  r.unmarked.push(...rescue);
  r.marked = r.marked.filter((id) => !saved.has(id));
  // A candidate that holds referenced objects (a repacked pack, a later copy, or a real pack under
  // a planted mark) goes only if each has an unmarked copy that was there before it, or that is
  // the same bytes: prune holds no key to tell a real copy from a planted one, but it can tell
  // which came first, and the same bytes.
  const shadowedIn = new Map<number, number[]>(); // marked pack ordinal → its shadowed positions
  for (let i = 0; i < markedTable.size; i++) if (live.shadowed[i]) listAt(shadowedIn, markedTable.packs[i]).push(i);
  // (At most two at once: each holds up to two spans of COPY_SPAN bytes while it compares.)
  const compared = new Map<string, Compared[]>();
  const unsure = await mapLimit(candidates.filter((id) => !saved.has(id)), Math.min(opts.jobs, 2), async (id) => {
    const c = await otherCopiesServe(storage, id, packs.get(id)?.mtime.getTime() ?? Infinity, shadowedIn.get(markedTable.findPack(id)) ?? [], markedTable, unmarked, packTime);
    if (!c) return id;
    compared.set(id, c);
    return undefined;
  });
  // Kept and unmarked, it is the older copy from now on, and the later ones become the garbage
  // (a push that saw the mark and uploaded its own copy loses nothing: its copy is collected).
  const keep = async (id: string, why: string) => {
    saved.add(id);
    await opts.remover.remove(markKey(id));
    r.unmarked.push(id);
    r.marked = r.marked.filter((m) => m !== id);
    log(`kept pack ${id}, though marked: ${why}`);
  };
  for (const id of unsure) if (id !== undefined) await keep(id, "snapshots reference objects in it whose other copies came later and are not the same bytes (a copy pushed after the mark, or a planted copy or mark)");
  let deletable = await lockedOut(candidates.filter((id) => !saved.has(id)));
  // One that holds the oldest copy of an object goes only if the oldest copy left is an unmarked
  // one with the same bytes (its repack's copy): a later copy with other bytes would count instead.
  const anchors = anchorsToKeep(new Set(deletable), compared, unmarked, markedTable, packTime, packs);
  for (const id of anchors) await keep(id, "it holds the oldest copy of objects that snapshots reference, and a later copy with other bytes came before the same bytes (a planted copy, or one pushed while it was marked): that copy goes first");
  deletable = deletable.filter((id) => !anchors.has(id));

  // 5. The compacted index first (so no live file lists a deleted pack), then packs, marks, old files.
  // Packs the index lists but the store lacks hold nothing live (that was checked above): drop them too.
  // The compacted index names every older file as superseded, the live ones and those a prune
  // that stopped part-way left (still superseded by a live file this run replaces): a file that
  // lists deleted packs must never come back into use once the file that superseded it is gone.
  const gone = new Set([...deletable, ...[...allPacks].filter((id) => !packs.has(id))]);
  const older = [...loaded.files, ...loaded.superseded];
  if (gone.size > 0 || loaded.files.length > 16) {
    const written = await compactIndex(storage, unmarked, markedTable, gone, older);
    r.indexFilesWritten = written;
  }
  await mapLimit(deletable, opts.jobs, async (id) => {
    // The mark stays: a concurrent prune may still write an index that lists this pack, and the
    // mark keeps readers away from it until a later run finds no index listing it (stale marks).
    if (await opts.remover.remove(packKey(id))) {
      r.deleted.push(id);
      r.deletedBytes += packs.get(id)?.size ?? 0;
    }
  });
  // Superseded files go before any stale mark: a mark is dropped only once no file that lists
  // its deleted pack is left, live or superseded.
  await mapLimit(r.indexFilesWritten > 0 ? older : loaded.superseded, opts.jobs, async (name) => {
    await opts.remover.remove(indexKey(name));
    r.indexFilesDeleted++;
  });
  await mapLimit(staleMarks, opts.jobs, (id) => opts.remover.remove(markKey(id)));

  // Housekeeping: abandoned multipart uploads and clock probes (a day old), versions of deleted garbage, locks.
  if (storage.abortStaleMultipartUploads) r.multipartAborted = await storage.abortStaleMultipartUploads(dayAgo);
  await mapLimit(staleProbes, opts.jobs, (key) => opts.remover.remove(key));
  for (const prefix of [PACKS_PREFIX, INDEX_PREFIX, MARKS_PREFIX, SNAPSHOTS_PREFIX]) r.versionsPurged += await opts.remover.purgeDeleted(prefix);
  if (opts.extendLocksDays !== undefined) r.locksExtended = await extendLocks(storage, unmarked, liveCount, snapshots.filter((s) => counted.has(s.id)).map((s) => s.id), opts);
  return r;
}

/**
 * Whether every referenced object of the marked pack `id` (stored at `time`; `positions`: its
 * referenced objects that unmarked packs hold too) has an unmarked copy that is older (by store
 * time, then pack id) or holds the same bytes: if so, the objects that no older unmarked copy
 * holds, each with its unmarked copies of the same bytes (for anchorsToKeep); if not, undefined.
 * The copies were checked against their packs' trailers (checkCopies). Bytes are read only where
 * no older copy exists (a repack's source and its copy): per COPY_SPAN of the candidate, one
 * ranged GET of it and one per pack holding copies. A store error fails the run rather than
 * keeping the pack, which would undo the repack.
 */
async function otherCopiesServe(storage: Storage, id: string, time: number, positions: number[], marked: IndexTable, unmarked: IndexTable, packTime: Float64Array): Promise<Compared[] | undefined> {
  const need: { i: number; copies: number[]; same: number[] }[] = [];
  for (const i of positions) {
    const p = unmarked.find(marked.ids, i);
    const copies: number[] = [];
    if (p >= 0) unmarked.forEachCopy(p, (j) => copies.push(j));
    const older = copies.some((j) => {
      const t = packTime[unmarked.packs[j]];
      return t < time || (t === time && unmarked.packIdAt(unmarked.packs[j]) < id);
    });
    if (older) continue;
    const sameLength = copies.filter((j) => unmarked.lengths[j] === marked.lengths[i]);
    if (sameLength.length === 0) return undefined;
    need.push({ i, copies: sameLength, same: [] });
  }
  if (need.length === 0) return [];
  // A pack a concurrent prune deleted meanwhile: the candidate is then gone already (nothing to
  // keep), and a copy's pack cannot serve.
  const gone = (err: unknown) => err instanceof CairnError && err.kind === "notFound";
  // In the candidate's order, a group of objects spanning at most COPY_SPAN bytes at a time.
  need.sort((a, b) => marked.offsets[a.i] - marked.offsets[b.i]);
  for (let k = 0; k < need.length; ) {
    const first = marked.offsets[need[k].i];
    let end = k + 1;
    while (end < need.length && marked.offsets[need[end].i] + marked.lengths[need[end].i] - first <= COPY_SPAN) end++;
    const group = need.slice(k, end);
    k = end;
    let mine: (r: { offset: number; length: number }) => Uint8Array;
    try {
      mine = await readSpan(storage, id, group.map((n) => ({ offset: marked.offsets[n.i], length: marked.lengths[n.i] })));
    } catch (err) {
      if (gone(err)) return [];
      throw err;
    }
    const byPack = new Map<number, number[]>();
    for (const n of group) for (const j of n.copies) listAt(byPack, unmarked.packs[j]).push(j);
    const theirs = new Map<number, Uint8Array>();
    for (const [pack, js] of byPack) {
      let span: (r: { offset: number; length: number }) => Uint8Array;
      try {
        span = await readSpan(storage, unmarked.packIdAt(pack), js.map((j) => ({ offset: unmarked.offsets[j], length: unmarked.lengths[j] })));
      } catch (err) {
        if (gone(err)) continue;
        throw err;
      }
      for (const j of js) theirs.set(j, span({ offset: unmarked.offsets[j], length: unmarked.lengths[j] }));
    }
    for (const n of group) {
      const bytes = Buffer.from(mine({ offset: marked.offsets[n.i], length: marked.lengths[n.i] }));
      n.same = n.copies.filter((j) => theirs.has(j) && bytes.equals(theirs.get(j)!));
      if (n.same.length === 0) return undefined;
    }
  }
  return need.map(({ i, same }) => ({ i, same }));
}

/** How much of a pack the copy check holds at once (per side). */
const COPY_SPAN = 32 * 1024 * 1024;

/** One ranged GET covering every range; answers each range's bytes. */
async function readSpan(storage: Storage, packId: string, ranges: { offset: number; length: number }[]): Promise<(r: { offset: number; length: number }) => Uint8Array> {
  let start = Infinity;
  let end = 0;
  for (const r of ranges) {
    start = Math.min(start, r.offset);
    end = Math.max(end, r.offset + r.length);
  }
  const bytes = await storage.get(packKey(packId), { offset: start, length: end - start });
  return (r) => bytes.subarray(r.offset - start, r.offset - start + r.length);
}

function listAt<K, V>(map: Map<K, V[]>, key: K): V[] {
  let l = map.get(key);
  if (!l) map.set(key, (l = []));
  return l;
}

/**
 * Every listing of an object that has more than one (a run of equal ids in a table, or an id in
 * both tables) checked against its pack's trailer: one ranged GET per pack involved (normally a
 * repack's source and copy, or two packs that concurrent pushes filled with the same new data).
 * An index file can claim anything; a trailer is part of its pack, whose name is its hash. A
 * listing the trailer does not bear out (a planted or damaged index file) is damage: it would
 * decide which copy counts, and so what is deleted. Packs the store lacks are left to the rest.
 */
async function checkCopies(storage: Storage, unmarked: IndexTable, marked: IndexTable, stored: Map<string, Listed>, jobs: number): Promise<string[]> {
  const want = new Map<string, { table: IndexTable; pos: number }[]>();
  const add = (table: IndexTable, pos: number) => {
    const id = table.packIdAt(table.packs[pos]);
    if (stored.has(id)) listAt(want, id).push({ table, pos });
  };
  const runEnd = (t: IndexTable, i: number) => {
    let j = i + 1;
    while (j < t.size && compareIds(t.ids, i, t.ids, j) === 0) j++;
    return j;
  };
  for (let i = 0; i < unmarked.size; ) {
    const j = runEnd(unmarked, i);
    if (j - i > 1) for (let k = i; k < j; k++) add(unmarked, k);
    i = j;
  }
  for (let i = 0; i < marked.size; ) {
    const j = runEnd(marked, i);
    const u = unmarked.find(marked.ids, i);
    if (j - i > 1 || u >= 0) {
      for (let k = i; k < j; k++) add(marked, k);
      if (u >= 0) unmarked.forEachCopy(u, (x) => add(unmarked, x));
    }
    i = j;
  }
  const problems: string[] = [];
  await mapLimit([...want], jobs, async ([packId, listed]) => {
    const { table, pos } = listed[0];
    let entries: PackEntry[];
    try {
      entries = await readPackTrailer(storage, packId, table.packSizes[table.packs[pos]]);
    } catch (err) {
      // Gone since the listing (a concurrent prune deleted it): the rest of the run sees it missing.
      if (err instanceof CairnError && err.kind === "notFound") return;
      if (!(err instanceof CairnError) || err.kind !== "integrity") throw err;
      problems.push(`pack ${packId}, which an index file lists with objects other packs hold too, has no readable trailer (${err.message}): run cairn verify --read-data, then cairn repair`);
      return;
    }
    const held = new Map(entries.map((e) => [toHex(e.id), e]));
    for (const { table: t, pos: i } of listed) {
      const e = held.get(toHex(t.idAt(i)));
      if (e && e.kind === t.kinds[i] && e.offset === t.offsets[i] && e.length === t.lengths[i]) continue;
      problems.push(`an index file lists ${kindName(t.kinds[i])} ${toHex(t.idAt(i))} in pack ${packId}, whose trailer does not (a planted or damaged index file): run cairn repair index`);
    }
  });
  return problems;
}

/** Copies the live objects of the given packs into new packs (each checked against its name first). */
async function repack(storage: Storage, table: IndexTable, live: Uint8Array, packOrdinals: number[], packSize: number, r: GcReport): Promise<void> {
  const chosen = new Set(packOrdinals);
  const byPack = new Map<number, number[]>();
  for (let i = 0; i < table.size; i++) {
    if (live[i] && chosen.has(table.packs[i])) listAt(byPack, table.packs[i]).push(i);
  }
  const builder = new PackBuilder();
  const done: IndexedPack[] = [];
  const flush = async () => {
    if (builder.count === 0) return;
    const p = builder.finish();
    await storage.put(packKey(p.id), p.bytes, { ifNoneMatch: true });
    done.push({ id: p.id, size: p.bytes.length, entries: p.entries });
    r.repackedInto.push(p.id);
  };
  const copied: string[] = [];
  for (const p of packOrdinals) {
    const id = table.packIdAt(p);
    const bytes = await storage.get(packKey(id));
    if (createHash("sha256").update(bytes).digest("hex") !== id) {
      r.problems.push(`pack ${id} does not hash to its name: not repacked (run cairn verify --read-data)`);
      continue;
    }
    // Copied where the pack's own trailer says, not where an index file claims: a planted index
    // file that lists this pack again with other offsets must not put other bytes under an id.
    let trailer: Map<string, PackEntry>;
    try {
      trailer = new Map(parseTrailer(bytes, bytes.length, id).map((e) => [toHex(e.id), e]));
    } catch (err) {
      if (!(err instanceof CairnError) || err.kind !== "integrity") throw err;
      r.problems.push(`pack ${id} has no readable trailer (${err.message}): not repacked (run cairn verify --read-data)`);
      continue;
    }
    const objects = (byPack.get(p) ?? []).map((i) => ({ i, entry: trailer.get(toHex(table.idAt(i))) }));
    const unlisted = objects.find(({ i, entry }) => entry === undefined || entry.kind !== table.kinds[i] || entry.offset !== table.offsets[i] || entry.length !== table.lengths[i]);
    if (unlisted) {
      r.problems.push(`an index file lists ${kindName(table.kinds[unlisted.i])} ${toHex(table.idAt(unlisted.i))} in pack ${id}, whose trailer does not list it there (a planted or damaged index file): not repacked (run cairn repair index)`);
      continue;
    }
    for (const { i, entry } of objects.sort((a, b) => a.entry!.offset - b.entry!.offset)) {
      builder.add(table.kinds[i], table.idAt(i), bytes.subarray(entry!.offset, entry!.offset + entry!.length));
      if (builder.objectBytes >= packSize) await flush();
    }
    copied.push(id);
  }
  await flush();
  if (done.length > 0) {
    const index = encodeIndexFile(done);
    await storage.put(indexKey(index.id), index.bytes, { ifNoneMatch: true });
  }
  r.repacked = copied;
}

/**
 * Writes the index of every pack except those in `gone`, in files of at most 256 packs; only the
 * last file names the old files as superseded, so a crash part-way leaves duplicates, never gaps.
 */
async function compactIndex(storage: Storage, unmarked: IndexTable, marked: IndexTable, gone: Set<string>, oldFiles: string[]): Promise<number> {
  const groups: { table: IndexTable; ordinals: number[] }[] = [];
  for (const table of [unmarked, marked]) {
    let ords: number[] = [];
    for (let p = 0; p < table.packCount; p++) {
      if (gone.has(table.packIdAt(p))) continue;
      ords.push(p);
      if (ords.length === 256) {
        groups.push({ table, ordinals: ords });
        ords = [];
      }
    }
    if (ords.length > 0) groups.push({ table, ordinals: ords });
  }
  if (groups.length === 0) groups.push({ table: unmarked, ordinals: [] });
  let written = 0;
  for (const [gi, g] of groups.entries()) {
    const slot = new Map<number, IndexedPack>();
    for (const p of g.ordinals) slot.set(p, { id: g.table.packIdAt(p), size: g.table.packSizes[p], entries: [] });
    for (let i = 0; i < g.table.size; i++) {
      const pack = slot.get(g.table.packs[i]);
      if (pack) pack.entries.push({ kind: g.table.kinds[i], id: g.table.idAt(i), offset: g.table.offsets[i], length: g.table.lengths[i] } satisfies PackEntry);
    }
    for (const p of slot.values()) p.entries.sort((a, b) => a.offset - b.offset);
    const file = encodeIndexFile([...slot.values()], gi === groups.length - 1 ? oldFiles : []);
    await storage.put(indexKey(file.id), file.bytes, { ifNoneMatch: true });
    written++;
  }
  return written;
}

/** Keeps the locks of live packs and kept snapshots at least `days` ahead (only objects that have a lock). */
async function extendLocks(storage: Storage, table: IndexTable, liveCount: Uint32Array, snapshotIds: string[], opts: GcOptions): Promise<number> {
  if (!opts.remover.objectLock || !storage.retention || !storage.setRetention) return 0;
  const until = new Date(Math.ceil((opts.now.getTime() + opts.extendLocksDays! * 86_400_000) / 1000) * 1000);
  const keys: string[] = [];
  for (let p = 0; p < table.packCount; p++) if (liveCount[p] > 0) keys.push(packKey(table.packIdAt(p)));
  for (const id of snapshotIds) keys.push(`${SNAPSHOTS_PREFIX}${id}`);
  let extended = 0;
  await mapLimit(keys, opts.jobs, async (key) => {
    const r = await storage.retention!(key);
    if (!r || r.until.getTime() >= until.getTime()) return;
    await storage.setRetention!(key, { mode: r.mode, until });
    extended++;
  });
  return extended;
}
