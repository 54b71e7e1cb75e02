export type { Storage, ObjectInfo, PutOptions, PutResult, ObjectVersion, Retention, LockInfo } from "./storage.js";
export { openStorage, type StorageOptions } from "./open.js";
export { parseStorageUrl, type StorageLocation } from "./url.js";
export { FolderStorage } from "./folder/folder-storage.js";
export { S3Storage } from "./s3/s3-storage.js";
export { resolveS3Settings, type S3Options, type S3Settings } from "./s3/client.js";
export { createBucket, destroyBucket, type BucketOptions } from "./s3/bucket.js";
