// One repository a push commits to: its index, the pack being filled, its uploads, its stats.
// Every step that can fail is confined to this target, so one failing store never stops the others.
import { createHash } from "node:crypto";
import { CairnError, toCairnError } from "@cairn/errors";
import type { Storage } from "@cairn/storage";
import {
  countingStorage,
  type RequestCounts,
  IdSet,
  IndexTable,
  LocalCache,
  ObjectKind,
  PackBuilder,
  packKey,
  markKey,
  encodeCommit,
  indexPacksFromTrailers,
  kindName,
  listMarks,
  loadIndex,
  readConfig,
  snapshotIdOf,
  snapshotKey,
  CONFIG_KEY,
  toHex,
  unindexedPacks,
  type RepoConfig,
} from "@cairn/repository";
import { PackUploader } from "./uploader.js";
import { BufferPool } from "./buffer-pool.js";
import { checkBucketLock, lockingStorage } from "./lock.js";

export interface TargetStats {
  url: string;
  snapshot?: string;
  newObjects: number;
  reusedObjects: number;
  /** Sealed object bytes that arrived in the stream. */
  bytesIn: number;
  /** Bytes written to the store (packs, index files, snapshot). */
  bytesOut: number;
  packs: number;
  requests: number;
  /** With --lock-days: the retain-until date of every object this push wrote (ISO). */
  lockedUntil?: string;
  error?: { kind: string; message: string };
}

export interface TargetOptions {
  jobs: number;
  /** Packs per index file (default 8). */
  indexEvery?: number;
  cache?: string | false;
  packSize?: number;
  /** Object Lock for every object written (the store must have lockInfo/retention). */
  lock?: { until: Date; mode: "COMPLIANCE" | "GOVERNANCE" };
  warn: (message: string) => void;
}

export class PushTarget {
  readonly storage: Storage;
  private readonly counts: RequestCounts;
  config!: RepoConfig;
  table: IndexTable = IndexTable.empty();
  private cache!: OwnIndexCache;
  private marks = new Set<string>();
  /** Marks that existed before this push wrote anything (see commit()). */
  private marksAtStart = new Set<string>();
  private added = new IdSet();
  /** Which indexed packs this snapshot reuses objects from (checked against deletion marks). */
  private usedPacks = new Uint8Array(0);
  private builder!: PackBuilder;
  private uploader!: PackUploader;
  private packSize = 0;
  private refreshed = false;
  failure?: CairnError;
  stats: TargetStats;

  private readonly raw: Storage;
  /** The store's own count of HTTP requests (S3: every attempt) when this target began. */
  private readonly requestsAtStart: number | undefined;

  constructor(storage: Storage, private readonly opts: TargetOptions) {
    this.raw = storage;
    this.requestsAtStart = storage.requestCount?.();
    const counted = countingStorage(opts.lock ? lockingStorage(storage, opts.lock) : storage);
    this.storage = counted.storage;
    this.counts = counted.counts;
    this.stats = { url: storage.url, newObjects: 0, reusedObjects: 0, bytesIn: 0, bytesOut: 0, packs: 0, requests: 0 };
    if (opts.lock) this.stats.lockedUntil = opts.lock.until.toISOString();
  }

  /** Reads config and index; indexes packs a killed push finished but never indexed. */
  async open(): Promise<void> {
    if (this.opts.lock) await checkBucketLock(this.raw);
    this.config = await readConfig(this.storage);
    this.cache = new OwnIndexCache(LocalCache.forRepository(this.config.id, this.opts.cache));
    this.packSize = this.opts.packSize ?? this.config.packSize;
    // Room for a full pack plus one large object, so a pack is usually built without regrowing.
    const pool = new BufferPool(2);
    this.builder = new PackBuilder(this.packSize + 4 * 1024 * 1024, (size) => pool.take(size));
    this.uploader = new PackUploader(this.storage, this.opts.jobs, this.opts.indexEvery ?? 8, pool, this.cache);
    await this.reloadIndex();
    this.marksAtStart = new Set(this.marks);
    const orphans = await unindexedPacks(this.storage, this.table, this.marks);
    if (orphans.length > 0) {
      // A pack whose trailer cannot be read is left out (no snapshot can name what it holds), and said.
      await indexPacksFromTrailers(this.storage, orphans, {
        jobs: this.opts.jobs,
        onDamaged: (id, err) => this.opts.warn(`${this.storage.url}: pack ${id} is in no index file and its trailer cannot be read (${(err as Error).message}): left out; cairn repair moves it aside`),
      });
      await this.reloadIndex();
    }
  }

  private async reloadIndex(): Promise<void> {
    const loaded = await loadIndex(this.storage, this.cache);
    const used = new Uint8Array(loaded.table.packCount);
    // Packs already reused keep their flag under the new table's numbering.
    for (let i = 0; i < this.usedPacks.length; i++) {
      if (!this.usedPacks[i]) continue;
      const pack = this.table.packIdAt(i);
      const j = loaded.table.findPack(pack);
      if (j >= 0) {
        used[j] = 1;
        continue;
      }
      // Marked or gone. A snapshot names objects, not packs: if every object of that pack is
      // still in another, unmarked one (it was a later copy of data pushed twice at once, which
      // prune collects), nothing this push reuses is lost, and the copies that stay count.
      for (let pos = 0; pos < this.table.size; pos++) {
        if (this.table.packs[pos] !== i) continue;
        const at = loaded.table.find(this.table.idAt(pos));
        if (at < 0) throw markedMeanwhile(pack, "reuses");
        used[loaded.table.packs[at]] = 1;
      }
    }
    this.table = loaded.table;
    this.marks = loaded.marks;
    this.usedPacks = used;
  }

  checkStart(meta: Record<string, any>): void {
    if (meta.stream !== "sealed") throw new CairnError("stream", `push needs a sealed stream (from cairn seal or cairn pull), got a ${String(meta.stream)} stream`);
    if (meta.keyset !== this.config.keyset) {
      throw new CairnError("key", `the stream was sealed for key set ${String(meta.keyset).slice(0, 16)}…, but ${this.storage.url} belongs to key set ${this.config.keyset.slice(0, 16)}…`);
    }
  }

  async addObject(kind: number, id: Uint8Array, object: Uint8Array): Promise<void> {
    this.stats.bytesIn += object.length;
    // The clear objects are named by their SHA-256: a damaged one is caught here, without a key,
    // before it is stored (prune would refuse the whole repository over it afterwards).
    if ((kind === ObjectKind.refsBlock || kind === ObjectKind.refsRoot) && !createHash("sha256").update(object).digest().equals(id)) {
      throw new CairnError("stream", `${kindName(kind)} ${toHex(id)} in the stream is damaged: its bytes do not hash to its id; nothing committed`);
    }
    if (this.present(id)) {
      this.stats.reusedObjects++;
      return;
    }
    this.added.add(id);
    this.builder.add(kind, id, object);
    this.stats.newObjects++;
    if (this.builder.objectBytes >= this.packSize) await this.uploader.add(this.builder.finish());
  }

  /** A SEALED_REF: the repository must already hold the object (or this push carried it). */
  async addRef(kind: number, id: Uint8Array): Promise<void> {
    // Held: reused, as a SEALED object the repository holds is (only no bytes came for it).
    if (this.present(id)) {
      this.stats.reusedObjects++;
      return;
    }
    // Another host may have committed it since the index was loaded: look once more.
    if (!this.refreshed) {
      this.refreshed = true;
      await this.reloadIndex();
      if (this.present(id)) {
        this.stats.reusedObjects++;
        return;
      }
    }
    throw new CairnError(
      "staleKnown",
      `${this.storage.url} does not hold ${kindName(kind)} ${toHex(id)} that the stream refers to (a stale known file?); nothing committed: run again without --known or with a fresh known file`,
    );
  }

  private present(id: Uint8Array): boolean {
    const pos = this.table.find(id);
    if (pos >= 0) {
      this.usedPacks[this.table.packs[pos]] = 1;
      return true;
    }
    return this.added.has(id);
  }

  /** After a valid END: finishes uploads, re-checks deletion marks, then writes the snapshot object. */
  async commit(commit: Record<string, any>): Promise<string> {
    if (this.builder?.count > 0) await this.uploader.add(this.builder.finish());
    await this.uploader.finish();
    if (commit.keyset !== this.config.keyset) throw new CairnError("key", `the snapshot's COMMIT names key set ${String(commit.keyset).slice(0, 16)}…, not this repository's`);
    for (const [what, hex] of [
      ["manifest root", commit.manifest],
      ["refs root", commit.refs],
    ] as const) {
      const id = Buffer.from(hex, "hex");
      if (!this.present(id)) throw new CairnError("staleKnown", `${this.storage.url} does not hold the snapshot's ${what} ${hex}; nothing committed`);
    }
    // The repository must still be there: a folder whose disk was unmounted mid-push (its empty
    // mount point took the packs), or that was removed, has no config. One HEAD per commit,
    // before the index is read again (an empty mount point has no index either).
    if (!(await this.storage.head(CONFIG_KEY))) {
      throw new CairnError("notFound", `${this.storage.url} holds no config any more (removed, or its disk unmounted during the push?); nothing committed`);
    }
    // Prune marks a pack before deleting it; a snapshot must not start depending on a marked pack,
    // whether it reuses the pack or wrote it itself (a push that outlives prune's grace period can
    // find its own early packs marked as unreferenced).
    const marks = await listMarks(this.storage);
    // A push that outlived several prunes can reuse a pack prune has marked, deleted, and then
    // dropped the mark of: the compacted index no longer lists it. Reloading the index (a LIST,
    // and only index files new since the start) finds that, and so refuses (reloadIndex).
    await this.reloadIndex();
    for (const own of this.uploader?.written ?? []) {
      if (this.table.findPack(own) < 0 && !marks.has(own) && !this.marksAtStart.has(own)) throw markedMeanwhile(own, "wrote");
    }
    for (const m of marks) {
      const p = this.table.findPack(m);
      if (p >= 0 && this.usedPacks[p]) throw markedMeanwhile(m, "reuses");
    }
    // A pack that was already marked when the push began and that it wrote again byte for byte
    // (marked objects count as absent) is not refused: refusing would refuse every re-run of the
    // same backup; prune unmarks a marked pack that a snapshot references.
    // Such a pack's mark is old, so a prune may have deleted it since the upload found it there
    // (an upload of bytes already stored creates nothing): it must still be in the store. (A prune
    // that deletes it between this HEAD and the snapshot PUT is not caught: docs/repository.md.)
    // Found, its mark goes, as prune takes the mark off a marked pack a snapshot references:
    // readers leave marked packs out, and the snapshot about to be committed needs it.
    const reclaimed: string[] = [];
    for (const own of this.uploader?.written ?? []) {
      if (marks.has(own) && !this.marksAtStart.has(own)) throw markedMeanwhile(own, "wrote");
      if (!marks.has(own)) continue;
      if (!(await this.storage.head(packKey(own)))) throw markedMeanwhile(own, "wrote");
      reclaimed.push(own);
    }
    for (const own of reclaimed) await this.storage.delete(markKey(own));
    const bytes = encodeCommit(commit);
    const id = snapshotIdOf(bytes);
    try {
      await this.storage.put(snapshotKey(id), bytes, { ifNoneMatch: true });
    } catch (err) {
      // The PUT may have landed and only its answer been lost: the object named by its own hash
      // is then there, and the snapshot is committed.
      const there = await this.storage.head(snapshotKey(id)).catch(() => undefined);
      if (there?.size !== bytes.length) throw err;
    }
    await this.cache.write(snapshotKey(id), bytes);
    this.stats.snapshot = id;
    return id;
  }

  /** The ids the index held when the push opened the repository (sorted; marked packs left out). */
  heldAtOpen(): Uint8Array {
    return this.table.ids;
  }

  /** The ids this repository holds after the push (sorted), for the known file. */
  async heldIds(): Promise<Uint8Array> {
    if (this.failure === undefined) await this.reloadIndex();
    return this.table.ids;
  }

  /** Finishes and indexes the uploads in flight, ignoring their outcome (the push is failing anyway). */
  async settle(): Promise<void> {
    await this.uploader?.finish().catch(() => {});
  }

  fail(err: unknown): void {
    const e = toCairnError(err);
    this.failure ??= e;
    this.stats.error = { kind: e.kind, message: e.message };
  }

  finalStats(): TargetStats {
    this.stats.bytesOut = this.counts.bytesUp;
    this.stats.packs = this.uploader?.packs ?? 0;
    // HTTP requests, retries and multipart parts included, where the store counts them (S3);
    // else the operations this target asked for.
    this.stats.requests = this.requestsAtStart !== undefined ? this.raw.requestCount!() - this.requestsAtStart : this.counts.requests;
    return this.stats;
  }
}

/**
 * The local cache, plus in memory the index files this push wrote (also with --no-cache): the
 * index is read again before the commit, and must not fetch them back. Only its own: the rest
 * can be as large as the index table itself.
 */
export class OwnIndexCache extends LocalCache {
  private readonly own = new Map<string, Uint8Array>();
  constructor(inner: LocalCache) {
    super(inner.dir);
  }
  /** An index file this push wrote. */
  async keep(key: string, bytes: Uint8Array): Promise<void> {
    this.own.set(key, bytes);
    await super.write(key, bytes);
  }
  override async read(key: string): Promise<Uint8Array | undefined> {
    return this.own.get(key) ?? super.read(key);
  }
}

/** A pack this snapshot needs that prune marked while the push ran: committing would reference garbage. */
function markedMeanwhile(pack: string, how: "reuses" | "wrote"): CairnError {
  return new CairnError("staleKnown", `pack ${pack}, which this snapshot ${how}, was marked for deletion (or deleted) by prune while the push ran; nothing committed, run the backup again`);
}
