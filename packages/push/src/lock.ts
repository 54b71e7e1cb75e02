// Object Lock for push (docs/repository.md, "Push: Object Lock"): every object a push writes is
// PUT with a retain-until date, and the first one written is read back from the store, so a store
// that accepts the lock headers and ignores them (Swift's s3api) is refused before any commit.
import { CairnError } from "@cairn/errors";
import type { PutOptions, PutResult, Storage } from "@cairn/storage";

export interface LockRequest {
  /** Whole days from the start of the push. */
  days: number;
  mode: "COMPLIANCE" | "GOVERNANCE";
}

/** The retain-until date for a push starting now: whole seconds (stores keep second precision). */
export function lockUntilFor(days: number, now = Date.now()): Date {
  return new Date(Math.ceil(now / 1000) * 1000 + days * 86_400_000);
}

/** Refuses a store that cannot lock objects (a folder), before anything is read or written. */
export function checkLockable(storage: Storage): void {
  if (!storage.lockInfo || !storage.retention) {
    throw new CairnError("usage", `--lock-days needs an S3 bucket with Object Lock; ${storage.url} cannot lock objects`);
  }
}

/** Refuses a bucket whose own configuration says Object Lock is off (before any PUT). */
export async function checkBucketLock(storage: Storage): Promise<void> {
  const info = await storage.lockInfo!();
  if (!info?.objectLock) {
    throw new CairnError("refused", `${storage.url} does not have Object Lock enabled: refusing to claim immutability; nothing committed`);
  }
}

/**
 * A Storage whose every put carries the lock; the first object it creates is verified (bucket
 * configuration and the object's retention as the store reports it) and every later put, the
 * snapshot's included, waits for that verdict and fails with it.
 */
export function lockingStorage(inner: Storage, lock: { until: Date; mode: LockRequest["mode"] }): Storage {
  let verdict: Promise<void> | undefined;
  const storage = Object.create(inner) as Storage;
  Object.assign(storage, {
    async put(key: string, body: Uint8Array | AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<PutResult> {
      if (verdict) await verdict;
      const result = await inner.put(key, body, { ...opts, lockUntil: lock.until, lockMode: lock.mode });
      if (result.created && verdict === undefined) verdict = verify(inner, key, result.versionId, lock.until);
      if (verdict) await verdict;
      return result;
    },
  });
  return storage;
}

async function verify(storage: Storage, key: string, versionId: string | undefined, until: Date): Promise<void> {
  const refuse = (why: string) =>
    new CairnError("refused", `${storage.url} ignored the Object Lock headers (${why}): refusing to claim immutability; nothing committed`);
  const info = await storage.lockInfo!();
  if (!info?.objectLock) throw refuse("the bucket reports no Object Lock configuration");
  const r = await storage.retention!(key, versionId);
  if (!r) throw refuse(`no retention on ${key}`);
  if (r.until.getTime() < until.getTime() - 1000) throw refuse(`${key} is retained only until ${r.until.toISOString()}, not ${until.toISOString()}`);
}
