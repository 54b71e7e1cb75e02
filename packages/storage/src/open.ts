import { FolderStorage } from "./folder/folder-storage.js";
import { resolveS3Settings, type S3Options } from "./s3/client.js";
import { S3Storage } from "./s3/s3-storage.js";
import type { Storage } from "./storage.js";
import { parseStorageUrl } from "./url.js";

/** Options for openStorage; a folder ignores them. */
export type StorageOptions = S3Options;

/**
 * Opens a repository's store: `file:///abs/path` (or a plain path) → a folder;
 * `s3://bucket/prefix` → S3 (or any S3-compatible server: see docs/storage.md for the
 * environment it reads). Does no I/O: a missing folder or bucket shows on first use.
 */
export async function openStorage(url: string, opts: StorageOptions = {}): Promise<Storage> {
  const loc = parseStorageUrl(url);
  if (loc.kind === "folder") return new FolderStorage(loc.path, loc.url);
  return new S3Storage(loc.bucket, loc.prefix, loc.url, resolveS3Settings(opts));
}
