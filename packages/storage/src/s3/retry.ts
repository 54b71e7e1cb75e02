// Retries with exponential back-off and jitter, for every S3 request the SDK sends: throttling
// (503 SlowDown, 429), 5xx, timeouts and connection resets. Unlike the SDK's standard strategy
// there is no shared retry quota: a long backup through a flaky link keeps retrying each request
// up to maxAttempts instead of failing once a client-wide budget runs out.
import type { RetryErrorInfo, RetryStrategyV2, RetryToken } from "@smithy/types";

export interface RetryPolicy {
  /** Attempts per request, the first included. */
  maxAttempts: number;
  /** The first retry waits about this long (between half and all of it); each next one twice as long. */
  baseDelayMs: number;
  /** No single wait is longer than this. */
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxAttempts: 6, baseDelayMs: 200, maxDelayMs: 20_000 };

/** The wait before retry number `retry` (1-based): "equal jitter", half fixed and half random. */
export function backoffDelay(retry: number, policy: RetryPolicy, throttled = false): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * (throttled ? 2 : 1) * 2 ** (retry - 1));
  return cap / 2 + (Math.random() * cap) / 2;
}

/** Errors a server gives while another conditional write of the same key is in flight (AWS: retry). */
const retryableClientErrors = new Set(["ConditionalRequestConflict", "RequestTimeout", "IncompleteBody"]);

class Token implements RetryToken {
  constructor(
    private readonly count: number,
    private readonly delay: number,
  ) {}
  getRetryCount(): number {
    return this.count;
  }
  getRetryDelay(): number {
    return this.delay;
  }
}

export class BackoffRetryStrategy implements RetryStrategyV2 {
  readonly mode = "standard";

  constructor(readonly policy: RetryPolicy) {}

  async acquireInitialRetryToken(): Promise<RetryToken> {
    return new Token(0, 0);
  }

  async refreshRetryTokenForRetry(token: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    const retry = token.getRetryCount() + 1;
    const error = info.error as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
    const notImplemented = error?.name === "NotImplemented" || error?.$metadata?.httpStatusCode === 501;
    const retryable = !notImplemented && (info.errorType !== "CLIENT_ERROR" || retryableClientErrors.has(error?.name ?? ""));
    if (!retryable || retry >= this.policy.maxAttempts) throw info.error ?? new Error("not retried");
    let delay = backoffDelay(retry, this.policy, info.errorType === "THROTTLING");
    if (info.retryAfterHint) {
      const hinted = info.retryAfterHint.getTime() - Date.now();
      delay = Math.max(delay, Math.min(hinted, this.policy.maxDelayMs));
    }
    return new Token(retry, delay);
  }

  recordSuccess(): void {}
}
