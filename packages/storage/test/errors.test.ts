// How S3 failures read. The real server's answers are exercised in test/storage-s3.test.ts; these
// are the cases RGW cannot produce on demand (no credentials at all, clock skew, DNS, IPv6+IPv4
// connection failures), built the way the SDK builds them.
import { describe, expect, it } from "vitest";
import { s3Error } from "../src/s3/errors.js";

const ctx = { op: "GET", key: "data/ab/cd", url: "s3://b/p", bucket: "b", endpoint: "http://127.0.0.1:7480" };

function sdkError(name: string, status?: number, message = "", attempts?: number) {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status, attempts } });
}

describe("S3 error messages", () => {
  it("says how to provide credentials when none were found", () => {
    const e = s3Error(Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" }), ctx);
    expect(e.kind).toBe("storage");
    expect(e.message).toBe("no S3 credentials for s3://b/p: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE");
  });

  it("names a skewed clock", () => {
    expect(s3Error(sdkError("RequestTimeTooSkewed", 403), ctx).message).toMatch(/clock is too far from the server's/);
  });

  it("finds the network error inside an AggregateError (localhost resolves to ::1 and 127.0.0.1)", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED ::1:7480"), { code: "ECONNREFUSED" });
    const agg = Object.assign(new AggregateError([refused, refused]), { $metadata: { attempts: 6 } });
    expect(s3Error(agg, ctx).message).toBe("cannot reach S3 endpoint http://127.0.0.1:7480 (ECONNREFUSED) after 6 attempts: GET data/ab/cd in s3://b/p");
    const dns = Object.assign(new Error("getaddrinfo ENOTFOUND s3.example"), { code: "ENOTFOUND" });
    expect(s3Error(dns, ctx).message).toMatch(/^cannot reach S3 endpoint .* \(ENOTFOUND\)/);
  });

  it("keeps the server's code and message for anything else, on one line", () => {
    const e = s3Error(sdkError("InternalError", 500, "We encountered an internal error.\nPlease try again.", 6), ctx);
    expect(e.kind).toBe("storage");
    expect(e.message).toBe("S3 GET data/ab/cd in s3://b/p failed after 6 attempts: HTTP 500 InternalError We encountered an internal error. Please try again.");
    const bare = s3Error(sdkError("Unknown", 503, "UnknownError", 6), ctx);
    expect(bare.message).toBe("S3 GET data/ab/cd in s3://b/p failed after 6 attempts: HTTP 503");
  });

  it("tells a missing object from a missing bucket", () => {
    expect(s3Error(sdkError("NoSuchKey", 404), ctx)).toMatchObject({ kind: "notFound", message: "object data/ab/cd not found in s3://b/p" });
    expect(s3Error(sdkError("NoSuchBucket", 404), ctx)).toMatchObject({ kind: "notFound", message: "bucket b not found at http://127.0.0.1:7480 (s3://b/p): create the bucket first, cairn init does not" });
  });
});
