// The one storage interface: a flat key space of immutable objects, with a folder and an S3
// implementation. Keys are "/"-separated and relative to the repository's root (the folder, or
// the bucket's prefix). Only PUT, ranged GET, HEAD, LIST and DELETE are assumed of a store; the
// optional members below expose versioning, Object Lock and multipart clean-up where a store has them.

export interface ObjectInfo {
  key: string;
  size: number;
  /** The store's own modification time (used for grace periods: never the local clock). */
  mtime: Date;
  /** Set on versioned buckets. */
  versionId?: string;
}

export interface PutOptions {
  /** Create only if absent (S3 If-None-Match: *, or an exclusive create). */
  ifNoneMatch?: boolean;
  /** S3 Object Lock: retain until this date (COMPLIANCE mode unless lockMode says GOVERNANCE). */
  lockUntil?: Date;
  lockMode?: "COMPLIANCE" | "GOVERNANCE";
}

export interface PutResult {
  /** False when ifNoneMatch was set and the object already existed (nothing was written). */
  created: boolean;
  /** The new version's id, on a versioned bucket. */
  versionId?: string;
}

/** One version of an object, or a delete marker, on a versioned bucket. */
export interface ObjectVersion {
  key: string;
  versionId: string;
  size: number;
  mtime: Date;
  isLatest: boolean;
  /** A delete marker: what a DELETE without a version id leaves on a versioned bucket. */
  deleteMarker: boolean;
}

export interface Retention {
  mode: "COMPLIANCE" | "GOVERNANCE";
  until: Date;
}

/** What the bucket itself says about Object Lock and versioning (never trust a PUT's echo). */
export interface LockInfo {
  /** GetObjectLockConfiguration says ObjectLockEnabled = Enabled. */
  objectLock: boolean;
  /** The bucket's default retention, if it has one. */
  defaultRetention?: { mode: "COMPLIANCE" | "GOVERNANCE"; days?: number; years?: number };
  versioning: "Enabled" | "Suspended" | "Disabled";
}

export interface Storage {
  /** The repository URL this storage was opened with (file:///… or s3://bucket/prefix). */
  readonly url: string;
  /**
   * Writes a whole object. Returns { created: false } instead of overwriting when ifNoneMatch is
   * set and the object exists. A body given as chunks may be uploaded as multipart (above the threshold).
   */
  put(key: string, body: Uint8Array | AsyncIterable<Uint8Array>, opts?: PutOptions): Promise<PutResult>;
  /**
   * The object's bytes, or a byte range of it. Throws CairnError("notFound") if absent. A range
   * that runs past the end of the object gives the bytes that exist (fewer, possibly none).
   */
  get(key: string, range?: { offset: number; length: number }): Promise<Uint8Array>;
  /** The object's bytes as a stream, for large objects. */
  getStream(key: string, range?: { offset: number; length: number }): AsyncIterable<Uint8Array>;
  /** Size and time, or undefined if absent. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Every object whose key starts with prefix, in key order, across all pages. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Removes an object (a missing object is not an error). */
  delete(key: string): Promise<void>;
  /**
   * Makes the store's root where that is a step of its own (a folder). Only `cairn init` calls
   * it: every other write into a root that is gone (removed, an unmounted disk) fails with
   * notFound instead of quietly making a new, empty one.
   */
  create?(): Promise<void>;

  /** Removes many objects (S3: DeleteObjects, 1000 a request). Missing objects are not an error. */
  deleteMany?(keys: Iterable<string> | AsyncIterable<string>): Promise<void>;
  /**
   * False once the store has shown it cannot create an object only-if-absent (S3 servers that
   * answer If-None-Match with 501, e.g. Swift): puts with ifNoneMatch then fall back to a racy
   * HEAD-then-PUT. True for folders and for stores that honoured it; undefined until known.
   */
  readonly atomicCreate?: boolean;
  /** Aborts multipart uploads (S3) or leftover temporary files (folder) begun before olderThan; returns how many. */
  abortStaleMultipartUploads?(olderThan: Date): Promise<number>;
  /** Every version and delete marker under prefix (versioned S3 buckets only). */
  listVersions?(prefix: string): AsyncIterable<ObjectVersion>;
  /** Deletes one version for good. A version under Object Lock → CairnError("refused"). */
  deleteVersion?(key: string, versionId: string): Promise<void>;
  /** The bucket's Object Lock and versioning configuration; undefined where the store has neither (folders). */
  lockInfo?(): Promise<LockInfo | undefined>;
  /** The Object Lock retention of an object (or one version), as the store reports it; undefined if none. */
  retention?(key: string, versionId?: string): Promise<Retention | undefined>;
  /** Sets or extends an object version's retention (COMPLIANCE retention can only be extended). */
  setRetention?(key: string, retention: Retention, versionId?: string): Promise<void>;
  /** HTTP requests sent so far (S3: every attempt, retries and multipart parts included), for stats and benchmarks. */
  requestCount?(): number;
}
