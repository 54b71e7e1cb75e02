import { describe, expect, it } from "vitest";
import { freeData, ownsBuffer } from "@cairn/protocol";

describe("freeData", () => {
  it("detaches a buffer the data covers whole, and leaves views and shared memory alone", () => {
    const whole = new Uint8Array(1 << 20).fill(7);
    expect(ownsBuffer(whole)).toBe(true);
    freeData(whole);
    expect(whole.buffer.detached).toBe(true);
    expect(whole.length).toBe(0);
    freeData(whole); // twice is harmless

    const big = new Uint8Array(1000).fill(1);
    const view = big.subarray(10, 20);
    expect(ownsBuffer(view)).toBe(false);
    freeData(view);
    expect(big.buffer.detached).toBe(false);
    expect(view[0]).toBe(1);

    const shared = new Uint8Array(new SharedArrayBuffer(16));
    expect(ownsBuffer(shared)).toBe(false);
    freeData(shared);
    expect(shared.length).toBe(16);
  });
});
