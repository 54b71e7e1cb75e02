// Content-MD5 where S3 demands it. AWS rejects Object Lock PUTs (and UploadParts of locked
// uploads) without it, and DeleteObjects / PutObjectRetention need it on older servers (Swift);
// requestChecksumCalculation "WHEN_REQUIRED" stops the SDK from sending any checksum on the PUTs,
// and it sends CRC32 rather than MD5 where it does. Only requests with an in-memory body qualify.
import { createHash } from "node:crypto";
import type { S3Client } from "@aws-sdk/client-s3";

const alwaysMd5 = new Set(["DeleteObjectsCommand", "PutObjectRetentionCommand", "PutObjectLockConfigurationCommand"]);
const lockedPuts = new Set(["PutObjectCommand", "UploadPartCommand"]);

interface BuildArgs {
  input: Record<string, unknown>;
  request: { headers: Record<string, string>; body?: unknown };
}

export function addContentMd5(client: S3Client): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const { input, request } = args as unknown as BuildArgs;
      const command = context.commandName ?? "";
      const wanted = alwaysMd5.has(command) || (lockedPuts.has(command) && input.ObjectLockMode !== undefined);
      const body = request?.body;
      if (wanted && request.headers && !hasHeader(request.headers, "content-md5")) {
        if (body instanceof Uint8Array || typeof body === "string") {
          request.headers["content-md5"] = createHash("md5").update(body).digest("base64");
        } else if (body === undefined || body === null) {
          request.headers["content-md5"] = createHash("md5").digest("base64");
        }
      }
      return next(args);
    },
    { step: "build", name: "cairnContentMd5", override: true },
  );
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((h) => h.toLowerCase() === name);
}
