// Deleting objects for good. On a versioned bucket a DELETE without a version id only adds a
// delete marker, so every version is deleted by its id; a version that Object Lock still protects
// is never touched, only reported (docs/prune.md, "Object Lock").
import { CairnError } from "@cairn/errors";
import type { Storage } from "@cairn/storage";

export interface LockedObject {
  key: string;
  versionId?: string;
  until: string;
}

export class Remover {
  readonly keptForLock: LockedObject[] = [];
  versionsDeleted = 0;

  private constructor(
    private readonly storage: Storage,
    readonly versioned: boolean,
    readonly objectLock: boolean,
    private readonly now: Date,
  ) {}

  static async open(storage: Storage, now: Date): Promise<Remover> {
    const info = storage.lockInfo ? await storage.lockInfo() : undefined;
    const versioned = !!info && info.versioning !== "Disabled" && !!storage.listVersions && !!storage.deleteVersion;
    return new Remover(storage, versioned, !!info?.objectLock, now);
  }

  /** The date until which Object Lock protects the object's current version, if it does. */
  async lockedUntil(key: string): Promise<Date | undefined> {
    if (!this.objectLock || !this.storage.retention) return undefined;
    const r = await this.storage.retention(key);
    return r && r.until.getTime() > this.now.getTime() ? r.until : undefined;
  }

  /** Removes every version of key that no lock protects; true when nothing of it is left. */
  async remove(key: string): Promise<boolean> {
    if (!this.versioned) {
      await this.storage.delete(key);
      return true;
    }
    let gone = true;
    for await (const v of this.storage.listVersions!(key)) {
      if (v.key !== key) continue;
      if (!(await this.removeVersion(key, v.versionId, v.deleteMarker))) gone = false;
    }
    return gone;
  }

  /** Deletes one version unless a lock protects it (then it is reported and kept). */
  async removeVersion(key: string, versionId: string, deleteMarker = false): Promise<boolean> {
    if (!deleteMarker && this.objectLock && this.storage.retention) {
      const r = await this.storage.retention(key, versionId);
      if (r && r.until.getTime() > this.now.getTime()) {
        this.keptForLock.push({ key, versionId, until: r.until.toISOString() });
        return false;
      }
    }
    try {
      await this.storage.deleteVersion!(key, versionId);
      this.versionsDeleted++;
      return true;
    } catch (err) {
      if (err instanceof CairnError && err.kind === "refused") {
        this.keptForLock.push({ key, versionId, until: "unknown (the store refused the delete)" });
        return false;
      }
      throw err;
    }
  }

  /**
   * Purges what plain DELETEs left behind under prefix: every version and delete marker of a key
   * whose newest version is a delete marker (the object is gone for readers), unless locked.
   */
  async purgeDeleted(prefix: string): Promise<number> {
    if (!this.versioned) return 0;
    let purged = 0;
    let current: string | undefined;
    let dead = false;
    for await (const v of this.storage.listVersions!(prefix)) {
      if (v.key !== current) {
        current = v.key;
        dead = v.isLatest && v.deleteMarker;
      }
      if (dead && (await this.removeVersion(v.key, v.versionId, v.deleteMarker))) purged++;
    }
    return purged;
  }
}
