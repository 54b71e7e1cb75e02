import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { publicKeyHex, signingKeyFromSeed } from "@cairn/keys";
import { signCommit, signedBytes, verifyCommit, type UnsignedCommit } from "../src/commit.js";

const vector = JSON.parse(readFileSync(new URL("./vectors/commit.json", import.meta.url), "utf8"));
const key = signingKeyFromSeed(Buffer.from(vector.seed, "hex"));
const writer = publicKeyHex(key);

describe("COMMIT signatures", () => {
  it("match the checked-in vector: signed bytes and Ed25519 signature", () => {
    expect(writer).toBe(vector.unsigned.writer);
    expect(signedBytes(vector.unsigned).toString("utf8")).toBe(vector.signedBytes);
    expect(signCommit(vector.unsigned, key).sig).toBe(vector.sig);
  });

  it("verify for a pinned writer", () => {
    const commit = signCommit(vector.unsigned as UnsignedCommit, key);
    expect(verifyCommit(JSON.parse(JSON.stringify(commit)), new Set([writer])).manifest).toBe(vector.unsigned.manifest);
  });

  it("do not verify once any signed member changes (integrity)", () => {
    const commit = signCommit(vector.unsigned as UnsignedCommit, key);
    for (const change of [{ time: "2026-11-28T00:00:00Z" }, { manifest: "00".repeat(32) }, { stats: { entries: 1, bytes: 0, refs: 1 } }, { partial: 1 }]) {
      expect(() => verifyCommit({ ...commit, ...change }, new Set([writer]))).toThrow(expect.objectContaining({ kind: "integrity", message: expect.stringMatching(/signature .* does not verify/) }));
    }
  });

  it("refuse an unpinned writer (key) and a missing signature (integrity)", () => {
    const commit = signCommit(vector.unsigned as UnsignedCommit, key);
    expect(() => verifyCommit({ ...commit }, new Set())).toThrow(expect.objectContaining({ kind: "key", message: expect.stringMatching(/not pinned/) }));
    const { sig: _s, ...unsigned } = commit;
    expect(() => verifyCommit(unsigned, new Set([writer]))).toThrow(expect.objectContaining({ kind: "integrity", message: "COMMIT has no sig" }));
  });
});
