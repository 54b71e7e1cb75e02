import { describe, expect, it } from "vitest";
import { chunkId, chunkSizes } from "../src/index.js";
import { makeInput } from "./vectors/input.js";

const idKey = Buffer.from("shift test id key");
const secret = Buffer.from("shift test chunker secret");

function ids(data: Uint8Array): string[] {
  const out: string[] = [];
  let at = 0;
  for (const size of chunkSizes(secret, data)) {
    out.push(chunkId(idKey, data.subarray(at, at + size)).toString("hex"));
    at += size;
  }
  return out;
}

describe("shift resistance", () => {
  it("changes at most 2 chunk ids of a 64 MiB file when one byte is inserted at its start", () => {
    const original = makeInput({ kind: "chacha20", seed: "shift resistance", length: 64 << 20 });
    const shifted = new Uint8Array(original.length + 1);
    shifted[0] = 0x2a;
    shifted.set(original, 1);
    const before = ids(original);
    const after = ids(shifted);
    expect(before.length).toBeGreaterThan(50); // default sizes: about 64 chunks
    const known = new Set(before);
    const changed = after.filter((id) => !known.has(id)).length;
    expect(changed).toBeGreaterThanOrEqual(1);
    expect(changed).toBeLessThanOrEqual(2);
    expect(after.length - before.length).toBeLessThanOrEqual(1);
  });
});
