// The manifest-cut vector (docs/sealing.md, "Manifest chunks"): the records of each case in
// manifest-vector.ts, cut by ManifestCutter, must give the checked-in manifest chunks and root.
// Rewrite the JSON (only when the cut rules change) with
//   CAIRN_WRITE_VECTORS=1 npx vitest run packages/seal/test/vectors.test.ts
import { createHash, createHmac } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FastCdc } from "@cairn/chunk";
import { MANIFEST_CDC, ManifestCutter } from "../src/manifest-cutter.js";
import { VECTOR_CASES, VECTOR_CHUNKER_SECRET, VECTOR_ID_KEY, type VectorCase } from "./manifest-vector.js";

const file = new URL("./vectors/manifest-cuts.json", import.meta.url);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** How many leading records of each case the JSON spells out in hex (the rest follow the same pattern). */
const SHOWN = { files: 5, max: 1 } as Record<string, number>;

function cutCase(c: VectorCase) {
  const records = c.records();
  const cutter = new ManifestCutter(VECTOR_CHUNKER_SECRET);
  const plain: Uint8Array[] = [];
  for (const r of records) {
    const chunk = cutter.append(r);
    if (chunk) plain.push(chunk);
  }
  plain.push(cutter.finish()!);
  const ids = plain.map((p) => createHmac("sha256", VECTOR_ID_KEY).update(p).digest());
  const manifest = Buffer.concat(records);
  return {
    name: c.name,
    records: records.length,
    manifestBytes: manifest.length,
    manifestSha256: createHash("sha256").update(manifest).digest("hex"),
    firstRecords: records.slice(0, SHOWN[c.name] ?? 1).map(hex),
    chunks: plain.map((p, i) => ({ size: p.length, id: hex(ids[i]) })),
    root: createHmac("sha256", VECTOR_ID_KEY).update(Buffer.concat(ids)).digest("hex"),
  };
}

function computed() {
  return {
    note:
      "docs/sealing.md, Manifest chunks: each case's records (described there; firstRecords in hex, manifestSha256 over all of them) " +
      "cut into manifest chunks (size, id = HMAC-SHA256(idKey, chunk)); root = HMAC-SHA256(idKey, the chunk ids concatenated)",
    idKey: hex(VECTOR_ID_KEY),
    chunkerSecret: hex(VECTOR_CHUNKER_SECRET),
    fastcdc: { ...MANIFEST_CDC },
    cases: VECTOR_CASES.map(cutCase),
  };
}

if (process.env.CAIRN_WRITE_VECTORS === "1") writeFileSync(file, JSON.stringify(computed(), null, 1) + "\n");
const vector = JSON.parse(readFileSync(file, "utf8"));

describe("manifest cut vector (docs/sealing.md, Manifest chunks)", () => {
  it("cuts each case's records into the checked-in manifest chunks and root", () => {
    expect(computed()).toEqual(vector);
  });

  it("case max: a manifest chunk ends after the record in which FastCDC reached max without a hash hit", () => {
    const c = cutCase(VECTOR_CASES.find((v) => v.name === "max")!);
    expect(c.chunks.length).toBeGreaterThan(1);
    // Replay: the first manifest chunk is longer than max, and FastCDC over it, from a fresh
    // state, cuts first at exactly max (a hash hit would have cut earlier).
    const records = VECTOR_CASES.find((v) => v.name === "max")!.records();
    const first = Buffer.concat(records).subarray(0, c.chunks[0].size);
    expect(first.length).toBeGreaterThan(MANIFEST_CDC.max);
    const cuts = new FastCdc(VECTOR_CHUNKER_SECRET, MANIFEST_CDC).push(first);
    expect(cuts[0]).toBe(MANIFEST_CDC.max);
  });
});
