// One S3Client per repository, configured from options and the environment: the standard AWS
// credential chain, a custom endpoint (path-style by default), no streaming checksums (older S3
// servers, Ceph and Swift among them, reject aws-chunked bodies), our retry strategy, timeouts.
import { S3Client } from "@aws-sdk/client-s3";
import { CairnError } from "@cairn/errors";
import { addContentMd5 } from "./content-md5.js";
import { BackoffRetryStrategy, defaultRetryPolicy, type RetryPolicy } from "./retry.js";

export interface S3Options {
  /** The S3 endpoint; default CAIRN_S3_ENDPOINT, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS. */
  endpoint?: string;
  /** Default AWS_REGION, AWS_DEFAULT_REGION, else us-east-1. */
  region?: string;
  /** Path-style URLs (http://host/bucket/key). Default CAIRN_S3_PATH_STYLE=1/0, else on for a custom endpoint. */
  forcePathStyle?: boolean;
  /** Instead of the standard credential chain (env, profile, SSO, instance metadata, …). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Attempts per request, the first included (default CAIRN_S3_MAX_ATTEMPTS, AWS_MAX_ATTEMPTS, else 6). */
  maxAttempts?: number;
  /** First back-off wait in ms, doubling each retry (default CAIRN_S3_RETRY_BASE_MS, else 200). */
  retryBaseDelayMs?: number;
  /** Longest back-off wait in ms (default 20000). */
  retryMaxDelayMs?: number;
  /** TCP connect timeout in ms (default 10000). */
  connectTimeoutMs?: number;
  /** An attempt fails (and is retried) after this long without any traffic, in ms (default CAIRN_S3_IDLE_TIMEOUT_MS, else 60000). */
  idleTimeoutMs?: number;
  /** Objects above this many bytes go up as multipart uploads (default 64 MiB). */
  multipartThreshold?: number;
  /** Multipart part size (default 8 MiB, at least 5 MiB). */
  partSize?: number;
  /** Parts in flight per multipart upload (1–4, default 4); memory ≈ partSize × (queueSize + 1). */
  queueSize?: number;
}

export interface S3Settings {
  client: S3Client;
  /** Counts HTTP requests sent, every attempt included. */
  counter: { requests: number };
  /** The endpoint as errors name it. */
  endpoint: string;
  retry: RetryPolicy;
  multipartThreshold: number;
  partSize: number;
  queueSize: number;
}

const MiB = 1024 * 1024;

function envNumber(env: NodeJS.ProcessEnv, ...names: string[]): number | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== "" && Number.isFinite(Number(value))) return Number(value);
  }
  return undefined;
}

export function resolveS3Settings(opts: S3Options = {}, env: NodeJS.ProcessEnv = process.env): S3Settings {
  const endpoint = opts.endpoint ?? (env.CAIRN_S3_ENDPOINT || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined);
  if (endpoint !== undefined && !/^https?:\/\/[^/\s]+/.test(endpoint)) {
    const from = opts.endpoint !== undefined ? "the endpoint" : ["CAIRN_S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"].find((n) => env[n]);
    throw new CairnError("usage", `${from} needs an http:// or https:// URL, got ${endpoint}`);
  }
  const region = opts.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || "us-east-1");
  const pathStyleEnv = env.CAIRN_S3_PATH_STYLE;
  const forcePathStyle = opts.forcePathStyle ?? (pathStyleEnv === "1" ? true : pathStyleEnv === "0" ? false : endpoint !== undefined);
  const retry: RetryPolicy = {
    maxAttempts: Math.max(1, opts.maxAttempts ?? envNumber(env, "CAIRN_S3_MAX_ATTEMPTS", "AWS_MAX_ATTEMPTS") ?? defaultRetryPolicy.maxAttempts),
    baseDelayMs: opts.retryBaseDelayMs ?? envNumber(env, "CAIRN_S3_RETRY_BASE_MS") ?? defaultRetryPolicy.baseDelayMs,
    maxDelayMs: opts.retryMaxDelayMs ?? defaultRetryPolicy.maxDelayMs,
  };
  const client = new S3Client({
    region,
    endpoint,
    forcePathStyle,
    credentials: opts.credentials,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    retryStrategy: new BackoffRetryStrategy(retry),
    maxAttempts: retry.maxAttempts,
    requestHandler: {
      connectionTimeout: opts.connectTimeoutMs ?? 10_000,
      // An idle socket fails the attempt (a TimeoutError, retried). Not requestTimeout: in this
      // SDK that is a deadline for the whole request (a large part on a slow link would break it)
      // and by default it only logs a warning, so a server that accepts and never answers hung
      // every tool for good.
      socketTimeout: opts.idleTimeoutMs ?? envNumber(env, "CAIRN_S3_IDLE_TIMEOUT_MS") ?? 60_000,
    },
  });
  addContentMd5(client);
  const counter = { requests: 0 };
  // the deserialize step runs once per attempt (the retry loop is outside it)
  client.middlewareStack.add(
    (next) => async (args) => {
      counter.requests++;
      return next(args);
    },
    { step: "deserialize", name: "cairnRequestCounter", override: true },
  );
  return {
    client,
    counter,
    endpoint: endpoint ?? `https://s3.${region}.amazonaws.com`,
    retry,
    multipartThreshold: opts.multipartThreshold ?? envNumber(env, "CAIRN_S3_MULTIPART_THRESHOLD") ?? 64 * MiB,
    partSize: Math.max(5 * MiB, opts.partSize ?? 8 * MiB),
    queueSize: Math.min(4, Math.max(1, opts.queueSize ?? 4)),
  };
}
