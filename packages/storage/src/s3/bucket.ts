// Creating and removing buckets, for the tests and benchmarks, which each work in a bucket of
// their own (no cairn tool creates a bucket: `cairn init` writes into one that exists). An Object
// Lock bucket must be created as one (x-amz-bucket-object-lock-enabled: true), which also turns
// versioning on; a server without Object Lock (Swift's s3api) makes a plain bucket of it, silently.
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectLockConfigurationCommand,
} from "@aws-sdk/client-s3";
import { CairnError } from "@cairn/errors";
import { parseStorageUrl } from "../url.js";
import { resolveS3Settings, type S3Options } from "./client.js";
import { nameOf, s3Error } from "./errors.js";

export interface BucketOptions {
  /** Create with Object Lock enabled (CreateBucket ObjectLockEnabledForBucket; versioning comes with it). */
  objectLock?: boolean;
  /** A default retention for new objects (only with objectLock). */
  defaultRetention?: { mode: "COMPLIANCE" | "GOVERNANCE"; days: number };
  /** Turn versioning on (implied by objectLock). */
  versioning?: boolean;
}

function s3Location(url: string) {
  const loc = parseStorageUrl(url);
  if (loc.kind !== "s3") throw new CairnError("usage", `${url} is not an s3:// URL`);
  return loc;
}

/** Creates the bucket of an s3:// URL; an existing bucket of ours is fine. */
export async function createBucket(url: string, bucketOpts: BucketOptions = {}, opts: S3Options = {}): Promise<void> {
  const loc = s3Location(url);
  const s = resolveS3Settings(opts);
  const ctx = { url: loc.url, bucket: loc.bucket, endpoint: s.endpoint };
  const region = await s.client.config.region();
  try {
    try {
      await s.client.send(
        new CreateBucketCommand({
          Bucket: loc.bucket,
          ObjectLockEnabledForBucket: bucketOpts.objectLock || undefined,
          CreateBucketConfiguration: region && region !== "us-east-1" ? { LocationConstraint: region as never } : undefined,
        }),
      );
    } catch (err) {
      if (nameOf(err) !== "BucketAlreadyOwnedByYou") throw s3Error(err, { ...ctx, op: "CREATE bucket" });
    }
    if (bucketOpts.versioning && !bucketOpts.objectLock) {
      await s.client
        .send(new PutBucketVersioningCommand({ Bucket: loc.bucket, VersioningConfiguration: { Status: "Enabled" } }))
        .catch((err) => {
          throw s3Error(err, { ...ctx, op: "PUT versioning" });
        });
    }
    if (bucketOpts.objectLock && bucketOpts.defaultRetention) {
      const { mode, days } = bucketOpts.defaultRetention;
      await s.client
        .send(
          new PutObjectLockConfigurationCommand({
            Bucket: loc.bucket,
            ObjectLockConfiguration: { ObjectLockEnabled: "Enabled", Rule: { DefaultRetention: { Mode: mode, Days: days } } },
          }),
        )
        .catch((err) => {
          throw s3Error(err, { ...ctx, op: "PUT lock configuration" });
        });
    }
  } finally {
    s.client.destroy();
  }
}

/**
 * Deletes every object version, delete marker and pending multipart upload under the bucket,
 * then the bucket. Returns false (and leaves the bucket) if Object Lock keeps some version.
 */
export async function destroyBucket(url: string, opts: S3Options = {}): Promise<boolean> {
  const loc = s3Location(url);
  const s = resolveS3Settings(opts);
  const ctx = { url: loc.url, bucket: loc.bucket, endpoint: s.endpoint };
  let kept = 0;
  try {
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (;;) {
      const out = await s.client
        .send(new ListObjectVersionsCommand({ Bucket: loc.bucket, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }))
        .catch((err) => {
          if (nameOf(err) === "NoSuchBucket") return undefined;
          throw s3Error(err, { ...ctx, op: "LIST versions" });
        });
      if (!out) return true;
      const objects = [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key!, VersionId: v.VersionId }));
      if (objects.length) {
        const del = await s.client
          .send(new DeleteObjectsCommand({ Bucket: loc.bucket, Delete: { Objects: objects, Quiet: true }, BypassGovernanceRetention: true }))
          .catch((err) => {
            throw s3Error(err, { ...ctx, op: "DELETE (batch)" });
          });
        kept += del.Errors?.length ?? 0;
      }
      if (!out.IsTruncated) break;
      keyMarker = out.NextKeyMarker;
      versionIdMarker = out.NextVersionIdMarker;
    }
    const uploads = await s.client.send(new ListMultipartUploadsCommand({ Bucket: loc.bucket })).catch(() => undefined);
    for (const u of uploads?.Uploads ?? []) {
      await s.client.send(new AbortMultipartUploadCommand({ Bucket: loc.bucket, Key: u.Key, UploadId: u.UploadId })).catch(() => {});
    }
    if (kept) return false;
    await s.client.send(new DeleteBucketCommand({ Bucket: loc.bucket })).catch((err) => {
      if (nameOf(err) !== "NoSuchBucket") throw s3Error(err, { ...ctx, op: "DELETE bucket" });
    });
    return true;
  } finally {
    s.client.destroy();
  }
}
