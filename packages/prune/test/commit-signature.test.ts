// prune's keyless signature check against seal's COMMIT vector (docs/sealing.md, "COMMIT").
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { canonicalJson, checkCommitSignature } from "../src/commit-signature.js";

const vector = JSON.parse(readFileSync(new URL("../../seal/test/vectors/commit.json", import.meta.url), "utf8"));
const commit = { ...vector.unsigned, sig: vector.sig };
const pinned = new Set([vector.unsigned.writer]);

describe("COMMIT signatures without key code", () => {
  it("canonical JSON of the vector is seal's signed bytes", () => {
    expect(`cairn commit v1\n${canonicalJson(vector.unsigned)}`).toBe(vector.signedBytes);
  });

  it("accepts the vector's signature from a pinned writer, whatever the JSON member order", () => {
    expect(checkCommitSignature(commit, pinned)).toEqual({ ok: true });
    const reordered = Object.fromEntries(Object.entries(commit).reverse());
    expect(checkCommitSignature(reordered, pinned)).toEqual({ ok: true });
  });

  it("an unpinned writer is unsigned; an altered clear part or signature is forged", () => {
    expect(checkCommitSignature(commit, new Set())).toMatchObject({ ok: false, why: "unsigned" });
    expect(checkCommitSignature({ ...commit, time: "2026-11-28T10:00:00.000Z" }, pinned)).toMatchObject({ ok: false, why: "forged" });
    expect(checkCommitSignature({ ...commit, sig: "00".repeat(64) }, pinned)).toMatchObject({ ok: false, why: "forged" });
    expect(checkCommitSignature({ ...commit, sig: undefined }, pinned)).toMatchObject({ ok: false, why: "forged" });
    expect(checkCommitSignature({ ...commit, writer: "zz" }, pinned)).toMatchObject({ ok: false, why: "unsigned" });
  });
});
