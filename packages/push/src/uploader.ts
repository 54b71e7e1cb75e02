// Uploads finished packs with at most `jobs` PUTs in flight. Each pack is followed by its own
// index file, so a re-run after an interruption finds every finished pack in the index.
import type { Storage } from "@cairn/storage";
import { encodeIndexFile, indexKey, packKey, type FinishedPack } from "@cairn/repository";

export class PackUploader {
  private inFlight = new Set<Promise<void>>();
  private failure: unknown;
  uploadedBytes = 0;
  packs = 0;

  constructor(
    private readonly storage: Storage,
    private readonly jobs: number,
  ) {}

  /** Starts uploading a pack; waits while `jobs` uploads are already running (back-pressure). */
  async add(pack: FinishedPack): Promise<void> {
    this.throwIfFailed();
    while (this.inFlight.size >= this.jobs) {
      await Promise.race(this.inFlight);
      this.throwIfFailed();
    }
    const p: Promise<void> = this.upload(pack).then(
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

  /** Waits for every upload; throws the first failure. */
  async finish(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.race(this.inFlight);
    this.throwIfFailed();
  }

  private async upload(pack: FinishedPack): Promise<void> {
    // The same bytes under the same name: an existing pack is the one we would write.
    await this.storage.put(packKey(pack.id), pack.bytes, { ifNoneMatch: true });
    const index = encodeIndexFile([{ id: pack.id, size: pack.bytes.length, entries: pack.entries }]);
    await this.storage.put(indexKey(index.id), index.bytes, { ifNoneMatch: true });
    this.uploadedBytes += pack.bytes.length + index.bytes.length;
    this.packs++;
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
