// The one storage interface: a flat key space of immutable objects, with a folder and an S3
// implementation. Keys are "/"-separated and relative to the repository's root (the folder, or
// the bucket's prefix). Only PUT, ranged GET, HEAD, LIST and DELETE are assumed of a store.

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

export interface Storage {
  /** The repository URL this storage was opened with (file:///… or s3://bucket/prefix). */
  readonly url: string;
  /**
   * Writes a whole object. Returns { created: false } instead of overwriting when ifNoneMatch is
   * set and the object exists. A body given as chunks may be uploaded as multipart (above the threshold).
   */
  put(key: string, body: Uint8Array | AsyncIterable<Uint8Array>, opts?: PutOptions): Promise<{ created: boolean }>;
  /** The object's bytes, or a byte range of it. Throws CairnError("notFound") if absent. */
  get(key: string, range?: { offset: number; length: number }): Promise<Uint8Array>;
  /** The object's bytes as a stream, for large objects. */
  getStream(key: string, range?: { offset: number; length: number }): AsyncIterable<Uint8Array>;
  /** Size and time, or undefined if absent. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Every object whose key starts with prefix, in key order, across all pages. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Removes an object (a missing object is not an error). */
  delete(key: string): Promise<void>;
}
