// Every S3 failure becomes one CairnError line that names the object, the repository and, when
// the server cannot be reached, the endpoint: missing → notFound, everything else → storage.
import { CairnError } from "@cairn/errors";

export interface ErrorContext {
  /** What was being done: "PUT", "GET", "LIST", … */
  op: string;
  key?: string;
  url: string;
  bucket: string;
  endpoint: string;
}

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  errors?: unknown[];
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

const credentialErrors = new Set(["InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "TokenRefreshRequired"]);
const networkCodes = new Set(["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EPIPE", "ECONNABORTED"]);

export function statusOf(err: unknown): number | undefined {
  return (err as SdkError)?.$metadata?.httpStatusCode;
}

export function nameOf(err: unknown): string {
  return (err as SdkError)?.name ?? "";
}

/** A missing object (GET/HEAD 404, NoSuchKey), as opposed to a missing bucket. */
export function isMissingObject(err: unknown): boolean {
  const name = nameOf(err);
  return name === "NoSuchKey" || name === "NotFound" || (statusOf(err) === 404 && name !== "NoSuchBucket");
}

/** The errno-like code of a network failure, looking inside AggregateErrors and causes. */
export function networkCode(err: unknown, depth = 0): string | undefined {
  if (!err || typeof err !== "object" || depth > 5) return undefined;
  const e = err as SdkError & { cause?: unknown };
  if (e.code && networkCodes.has(e.code)) return e.code;
  if (e.name === "TimeoutError") return "timeout";
  for (const inner of e.errors ?? []) {
    const code = networkCode(inner, depth + 1);
    if (code) return code;
  }
  return networkCode(e.cause, depth + 1);
}

export function s3Error(err: unknown, ctx: ErrorContext): CairnError {
  if (err instanceof CairnError) return err;
  const e = (err ?? {}) as SdkError;
  const name = e.name ?? "Error";
  const status = statusOf(err);
  const attempts = e.$metadata?.attempts;
  const tries = attempts && attempts > 1 ? ` after ${attempts} attempts` : "";
  const object = ctx.key !== undefined ? `${ctx.key} in ${ctx.url}` : ctx.url;
  const make = (kind: "notFound" | "storage", message: string) => new CairnError(kind, message, { cause: err });

  if (name === "NoSuchBucket") return make("notFound", `bucket ${ctx.bucket} not found at ${ctx.endpoint} (${ctx.url}): create the bucket first, cairn init does not`);
  if (ctx.key !== undefined && isMissingObject(err)) return make("notFound", `object ${ctx.key} not found in ${ctx.url}`);
  if (credentialErrors.has(name)) {
    return make("storage", `S3 rejected the credentials for ${ctx.url} at ${ctx.endpoint} (${name}): check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE`);
  }
  if (name === "RequestTimeTooSkewed") {
    return make("storage", `S3 refused ${ctx.op} ${object}: this machine's clock is too far from the server's (RequestTimeTooSkewed)`);
  }
  if (name === "AccessDenied" || status === 403) {
    return make("storage", `access denied: ${ctx.op} ${object} at ${ctx.endpoint} (${name === "AccessDenied" ? name : `HTTP ${status}`}): check the credentials and their permissions`);
  }
  if (name === "CredentialsProviderError" || /Could not load credentials/i.test(e.message ?? "")) {
    return make("storage", `no S3 credentials for ${ctx.url}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE`);
  }
  const net = networkCode(err);
  if (net && status === undefined) {
    const unreachable = ["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"].includes(net);
    const what = unreachable
      ? `cannot reach S3 endpoint ${ctx.endpoint}`
      : net === "timeout"
        ? `S3 endpoint ${ctx.endpoint} stopped answering`
        : `connection to S3 endpoint ${ctx.endpoint} failed`;
    return make("storage", `${what} (${net})${tries}: ${ctx.op} ${object}`);
  }
  const message = oneLine(e.message);
  const detail = [
    status ? `HTTP ${status}` : "",
    name !== "Error" && name !== "Unknown" ? name : "",
    message !== name ? message : "",
  ]
    .filter((s) => s)
    .join(" ");
  return make("storage", `S3 ${ctx.op} ${object} failed${tries}: ${detail || name}`);
}

function oneLine(message: string | undefined): string {
  if (!message || message === "UnknownError") return "";
  return message.replace(/\s*\n\s*/g, " ").slice(0, 200);
}
