import type { RetryErrorInfo } from "@smithy/types";
import { describe, expect, it } from "vitest";
import { backoffDelay, BackoffRetryStrategy } from "../src/s3/retry.js";

const policy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000 };

async function retries(info: RetryErrorInfo): Promise<number[]> {
  const strategy = new BackoffRetryStrategy(policy);
  let token = await strategy.acquireInitialRetryToken();
  const delays: number[] = [];
  for (;;) {
    try {
      token = await strategy.refreshRetryTokenForRetry(token, info);
    } catch {
      return delays;
    }
    delays.push(token.getRetryDelay());
  }
}

describe("retry with back-off", () => {
  it("doubles the wait each retry, with jitter, up to the cap", () => {
    for (let i = 0; i < 200; i++) {
      const d = [1, 2, 3, 4, 5].map((n) => backoffDelay(n, policy));
      expect(d[0]).toBeGreaterThanOrEqual(50);
      expect(d[0]).toBeLessThanOrEqual(100);
      expect(d[2]).toBeGreaterThanOrEqual(200);
      expect(d[2]).toBeLessThanOrEqual(400);
      expect(d[4]).toBeGreaterThanOrEqual(500);
      expect(d[4]).toBeLessThanOrEqual(1000);
    }
    // throttling backs off twice as far
    expect(backoffDelay(1, policy, true)).toBeGreaterThanOrEqual(100);
  });

  it("retries throttling, server errors and network failures up to maxAttempts in all", async () => {
    const slowDown = Object.assign(new Error("Please reduce your request rate."), { name: "SlowDown" });
    expect(await retries({ errorType: "THROTTLING", error: slowDown })).toHaveLength(3);
    expect(await retries({ errorType: "SERVER_ERROR" })).toHaveLength(3);
    expect(await retries({ errorType: "TRANSIENT" })).toHaveLength(3);
  });

  it("does not retry client errors, except a conditional write racing another", async () => {
    expect(await retries({ errorType: "CLIENT_ERROR", error: Object.assign(new Error(), { name: "AccessDenied" }) })).toHaveLength(0);
    expect(await retries({ errorType: "CLIENT_ERROR", error: Object.assign(new Error(), { name: "ConditionalRequestConflict" }) })).toHaveLength(3);
  });

  it("does not retry what the server does not implement (a 5xx that will not go away)", async () => {
    const error = Object.assign(new Error(), { name: "NotImplemented", $metadata: { httpStatusCode: 501 } });
    expect(await retries({ errorType: "SERVER_ERROR", error })).toHaveLength(0);
  });

  it("waits at least as long as the server's Retry-After asks, within the cap", async () => {
    const delays = await retries({ errorType: "THROTTLING", retryAfterHint: new Date(Date.now() + 5000) });
    expect(delays.every((d) => d > 900 && d <= 1000)).toBe(true);
  });
});
