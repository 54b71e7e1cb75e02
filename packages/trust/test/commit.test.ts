// The readers' side of COMMIT signatures, against seal's vector (docs/sealing.md, "COMMIT").
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { canonicalJson, checkCommitSignature, signedBytes, verifyCommit } from "../src/index.js";

const vector = JSON.parse(readFileSync(new URL("../../seal/test/vectors/commit.json", import.meta.url), "utf8"));
const commit = { ...vector.unsigned, sig: vector.sig };
const pinned = new Set<string>([vector.unsigned.writer]);

describe("COMMIT signatures without key code", () => {
  it("canonical JSON of the vector is seal's signed bytes", () => {
    expect(`cairn commit v1\n${canonicalJson(vector.unsigned)}`).toBe(vector.signedBytes);
    expect(signedBytes(commit).toString("utf8")).toBe(vector.signedBytes);
  });

  it("accepts the vector's signature from a pinned writer, whatever the JSON member order", () => {
    expect(checkCommitSignature(commit, pinned)).toEqual({ ok: true });
    const reordered = Object.fromEntries(Object.entries(commit).reverse());
    expect(checkCommitSignature(reordered, pinned)).toEqual({ ok: true });
    expect(verifyCommit(reordered, pinned).sig).toBe(vector.sig);
  });

  it("an unpinned writer is unsigned; an altered clear part or signature is forged", () => {
    expect(checkCommitSignature(commit, new Set())).toMatchObject({ ok: false, why: "unsigned" });
    expect(checkCommitSignature({ ...commit, time: "2026-11-28T10:00:00.000Z" }, pinned)).toMatchObject({ ok: false, why: "forged" });
    expect(checkCommitSignature({ ...commit, sig: "00".repeat(64) }, pinned)).toMatchObject({ ok: false, why: "forged" });
    expect(checkCommitSignature({ ...commit, sig: undefined }, pinned)).toMatchObject({ ok: false, why: "forged" });
    expect(checkCommitSignature({ ...commit, writer: "zz" }, pinned)).toMatchObject({ ok: false, why: "unsigned" });
  });

  it("verifyCommit throws the documented kinds: key for an unpinned writer, integrity for an altered part, version for v2", () => {
    expect(() => verifyCommit(commit, new Set())).toThrow(expect.objectContaining({ kind: "key" }));
    expect(() => verifyCommit({ ...commit, host: "db2" }, pinned)).toThrow(expect.objectContaining({ kind: "integrity", message: expect.stringMatching(/does not verify/) }));
    expect(() => verifyCommit({ ...commit, v: 2 }, pinned)).toThrow(expect.objectContaining({ kind: "version" }));
  });
});
