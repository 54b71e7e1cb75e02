import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { MacWorker } from "../src/mac-worker.js";

const key = Buffer.from("mac worker test key");
const mac = (b: Uint8Array) => createHmac("sha256", key).update(b).digest();

describe("MacWorker", () => {
  it("MACs small and large buffers, on and off the worker, and answers in order", async () => {
    const macs = new MacWorker(key);
    const inputs = [100, 200_000, 5, 1 << 20, 20_000, 16 * 1024 + 31].map((n, i) => {
      const b = Buffer.allocUnsafe(n + 32);
      b.fill(i + 1);
      return b;
    });
    const expected = inputs.map((b) => mac(b.subarray(32)));
    const lengths = inputs.map((b) => b.length);
    const results = await Promise.all(inputs.map((b) => macs.mac(b, 32)));
    macs.close();
    results.forEach((r, i) => {
      expect(r.mac).toEqual(expected[i]);
      expect(r.bytes.length).toBe(lengths[i]);
      expect(r.bytes[r.bytes.length - 1]).toBe(i + 1);
    });
    // A buffer that went to the worker came back as a new view; the old one is detached.
    expect(inputs[1].length).toBe(0);
    expect(inputs[0].length).toBe(132);
  });

  it("MACs a view into a larger buffer through a copy of its own on the worker, leaving the buffer alone", async () => {
    const macs = new MacWorker(key);
    const big = Buffer.alloc(1 << 20, 7);
    big.fill(9, 300_000, 310_000);
    const view = big.subarray(1000, 500_000);
    const r = await macs.mac(view, 32);
    macs.close();
    expect(r.mac).toEqual(mac(view.subarray(32)));
    expect(big.length).toBe(1 << 20); // not moved away
    expect(big.buffer.detached).toBe(false);
    // The answer's bytes are the copy, back from the worker: the view's bytes in memory of their own.
    expect(r.bytes.buffer).not.toBe(big.buffer);
    expect(r.bytes.byteLength).toBe(r.bytes.buffer.byteLength);
    expect(Buffer.compare(r.bytes, view)).toBe(0);
  });

  it("rejects what is still pending when closed", async () => {
    const macs = new MacWorker(key);
    const pending = macs.mac(new Uint8Array(new ArrayBuffer(4 << 20)), 32);
    macs.close();
    await expect(pending).rejects.toThrow(/stopped/);
    await expect(macs.mac(new Uint8Array(10), 0)).rejects.toThrow(/stopped/);
  });
});
