// S3 for tests: the suite runner (scripts/test.sh) starts Ceph RGW and exports CAIRN_S3_ENDPOINT
// and AWS credentials; S3 tests skip only when CAIRN_S3_ENDPOINT is unset. Each test works in a
// bucket of its own (random suffix) and removes it afterwards.
//
//   describe.skipIf(!s3Available())("push to S3", () => {
//     it("…", () => withBucket(async ({ url, env }) => { sh(`… | cairn push ${url}`, { env }); }));
//   });
import { randomBytes } from "node:crypto";
import { createBucket, destroyBucket, type BucketOptions, type S3Options } from "@cairn/storage";

export function s3Available(): boolean {
  return !!process.env.CAIRN_S3_ENDPOINT;
}

/** The environment a CLI needs to reach the test RGW (pass it to sh()/cairn() as env). */
export function s3Env(): Record<string, string> {
  const env = process.env;
  return {
    CAIRN_S3_ENDPOINT: env.CAIRN_S3_ENDPOINT ?? "http://127.0.0.1:7480",
    AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID ?? "testaccesskey",
    AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY ?? "testsecretkey",
    AWS_REGION: env.AWS_REGION ?? "us-east-1",
  };
}

/** Options for openStorage() in-process that match s3Env() (explicit, so a test's own env changes cannot leak in). */
export function s3Options(extra: S3Options = {}): S3Options {
  const env = s3Env();
  return {
    endpoint: env.CAIRN_S3_ENDPOINT,
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
    ...extra,
  };
}

export function randomBucketName(tag = "t"): string {
  const clean = tag.toLowerCase().replace(/[^a-z0-9-]/g, "-").slice(0, 20);
  return `cairn-${clean}-${randomBytes(6).toString("hex")}`;
}

export interface TestBucket {
  /** s3://bucket/prefix */
  url: string;
  bucket: string;
  /** Environment for CLIs (merge into sh()/cairn() env). */
  env: Record<string, string>;
  /** Removes every object version and the bucket (a bucket that Object Lock keeps is left). */
  cleanup: () => Promise<void>;
}

/** Creates a fresh bucket; the URL points at `prefix` (default "repo") inside it. */
export async function newBucketUrl(opts: BucketOptions & { prefix?: string; tag?: string } = {}): Promise<TestBucket> {
  const bucket = randomBucketName(opts.tag);
  const prefix = opts.prefix ?? "repo";
  const url = prefix ? `s3://${bucket}/${prefix}` : `s3://${bucket}`;
  await createBucket(url, opts, s3Options());
  return {
    url,
    bucket,
    env: s3Env(),
    cleanup: async () => {
      await destroyBucket(url, s3Options());
    },
  };
}

/** Runs fn with a fresh bucket and removes it afterwards, whatever fn does. */
export async function withBucket<T>(fn: (b: TestBucket) => Promise<T>, opts: BucketOptions & { prefix?: string; tag?: string } = {}): Promise<T> {
  const b = await newBucketUrl(opts);
  try {
    return await fn(b);
  } finally {
    await b.cleanup();
  }
}
