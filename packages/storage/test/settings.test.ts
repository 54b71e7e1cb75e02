import { describe, expect, it } from "vitest";
import { resolveS3Settings } from "../src/s3/client.js";

const MiB = 1024 * 1024;

describe("S3 settings from options and environment", () => {
  it("uses CAIRN_S3_ENDPOINT before AWS_ENDPOINT_URL, and path-style for a custom endpoint", async () => {
    const s = resolveS3Settings({}, { CAIRN_S3_ENDPOINT: "http://127.0.0.1:7480", AWS_ENDPOINT_URL: "http://elsewhere:1" });
    expect(s.endpoint).toBe("http://127.0.0.1:7480");
    expect(s.client.config.forcePathStyle).toBe(true);
    expect(await s.client.config.region()).toBe("us-east-1");
    const aws = resolveS3Settings({}, { AWS_ENDPOINT_URL: "http://minio:9000", AWS_REGION: "eu-west-1" });
    expect(aws.endpoint).toBe("http://minio:9000");
    expect(await aws.client.config.region()).toBe("eu-west-1");
  });

  it("talks to AWS virtual-hosted style when no endpoint is set, unless asked for path-style", () => {
    expect(resolveS3Settings({}, {}).client.config.forcePathStyle).toBe(false);
    expect(resolveS3Settings({}, {}).endpoint).toBe("https://s3.us-east-1.amazonaws.com");
    expect(resolveS3Settings({}, { CAIRN_S3_PATH_STYLE: "1" }).client.config.forcePathStyle).toBe(true);
    expect(resolveS3Settings({ endpoint: "http://x:1" }, { CAIRN_S3_PATH_STYLE: "0" }).client.config.forcePathStyle).toBe(false);
    expect(resolveS3Settings({ forcePathStyle: true }, {}).client.config.forcePathStyle).toBe(true);
  });

  it("never sends streaming checksums (older S3 servers reject aws-chunked bodies)", async () => {
    const s = resolveS3Settings({}, {});
    expect(await s.client.config.requestChecksumCalculation()).toBe("WHEN_REQUIRED");
    expect(await s.client.config.responseChecksumValidation()).toBe("WHEN_REQUIRED");
  });

  it("takes retry and multipart settings from options, then the environment, then defaults", () => {
    const d = resolveS3Settings({}, {});
    expect(d.retry.maxAttempts).toBe(6);
    expect(d.multipartThreshold).toBe(64 * MiB);
    expect(d.partSize).toBe(8 * MiB);
    expect(d.queueSize).toBe(4);
    const e = resolveS3Settings({}, { CAIRN_S3_MAX_ATTEMPTS: "2", CAIRN_S3_RETRY_BASE_MS: "5", CAIRN_S3_MULTIPART_THRESHOLD: "1000" });
    expect(e.retry).toMatchObject({ maxAttempts: 2, baseDelayMs: 5 });
    expect(e.multipartThreshold).toBe(1000);
    const o = resolveS3Settings({ maxAttempts: 9, partSize: 1 }, { CAIRN_S3_MAX_ATTEMPTS: "2" });
    expect(o.retry.maxAttempts).toBe(9);
    expect(o.partSize).toBe(5 * MiB); // S3's minimum part size
  });
});
