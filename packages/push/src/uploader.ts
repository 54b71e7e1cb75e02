// Uploads finished packs with at most `jobs` PUTs in flight, and indexes them in batches: an
// index file for every `indexEvery` finished packs and one for the rest at the end. A pack that
// finished but is not indexed yet (the push was killed) is found by the next push, which lists
// packs/ and reads its trailer (docs/repository.md, "Index files"), so batching costs a re-run
// one ranged GET per such pack and saves a PUT per pack on every run.
import type { Storage } from "@cairn/storage";
import type { BufferPool } from "./buffer-pool.js";
import { encodeIndexFile, indexKey, packKey, type FinishedPack, type IndexedPack } from "@cairn/repository";

export class PackUploader {
  private inFlight = new Set<Promise<void>>();
  private failure: unknown;
  private unindexed: IndexedPack[] = [];
  uploadedBytes = 0;
  packs = 0;
  /** Hex ids of the packs this push wrote (checked against deletion marks before the commit). */
  readonly written: string[] = [];

  constructor(
    private readonly storage: Storage,
    private readonly jobs: number,
    private readonly indexEvery: number,
    private readonly pool?: BufferPool,
    /** Where the index files it writes are kept too, so that reading the index again does not fetch them back. */
    private readonly cache?: { keep(key: string, bytes: Uint8Array): Promise<void> },
  ) {}

  /** Starts uploading a pack; waits while `jobs` uploads are already running (back-pressure). */
  async add(pack: FinishedPack): Promise<void> {
    this.throwIfFailed();
    while (this.inFlight.size >= this.jobs) {
      await Promise.race(this.inFlight);
      this.throwIfFailed();
    }
    this.track(this.upload(pack));
  }

  /** Waits for every upload, then indexes what is not indexed yet; throws the first failure. */
  async finish(): Promise<void> {
    await this.drain();
    if (this.unindexed.length > 0) await this.writeIndex(this.unindexed.splice(0));
  }

  /** Waits for uploads in flight (their outcome is recorded, not thrown). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.race(this.inFlight);
    this.throwIfFailed();
  }

  private track(work: Promise<void>): void {
    const p: Promise<void> = work.then(
      () => {
        this.inFlight.delete(p);
      },
      (err) => {
        this.inFlight.delete(p);
        this.failure ??= err;
      },
    );
    this.inFlight.add(p);
  }

  private async upload(pack: FinishedPack): Promise<void> {
    // The same bytes under the same name: an existing pack is the one we would write.
    await this.storage.put(packKey(pack.id), pack.bytes, { ifNoneMatch: true });
    this.pool?.give(pack.bytes);
    this.uploadedBytes += pack.bytes.length;
    this.packs++;
    this.written.push(pack.id);
    this.unindexed.push({ id: pack.id, size: pack.bytes.length, entries: pack.entries });
    if (this.unindexed.length >= this.indexEvery) await this.writeIndex(this.unindexed.splice(0));
  }

  private async writeIndex(packs: IndexedPack[]): Promise<void> {
    const index = encodeIndexFile(packs);
    await this.storage.put(indexKey(index.id), index.bytes, { ifNoneMatch: true });
    await this.cache?.keep(indexKey(index.id), index.bytes);
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
