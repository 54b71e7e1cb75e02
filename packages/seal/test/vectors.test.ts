import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ManifestCutter } from "../src/manifest-cutter.js";
import { VECTOR_CHUNKER_SECRET, VECTOR_ID_KEY, vectorRecords } from "./manifest-vector.js";

const vector = JSON.parse(readFileSync(new URL("./vectors/manifest-cuts.json", import.meta.url), "utf8"));

function cutVector(): { chunks: { size: number; id: string }[]; root: string } {
  const cutter = new ManifestCutter(VECTOR_CHUNKER_SECRET);
  const plain: Uint8Array[] = [];
  for (const r of vectorRecords()) {
    const c = cutter.append(r);
    if (c) plain.push(c);
  }
  plain.push(cutter.finish()!);
  const ids = plain.map((p) => createHmac("sha256", VECTOR_ID_KEY).update(p).digest());
  return {
    chunks: plain.map((p, i) => ({ size: p.length, id: ids[i].toString("hex") })),
    root: createHmac("sha256", VECTOR_ID_KEY).update(Buffer.concat(ids)).digest("hex"),
  };
}

describe("manifest cut vector (docs/sealing.md, Manifest chunks)", () => {
  it("cuts the vector's records into the checked-in manifest chunks and root", () => {
    expect(cutVector()).toEqual(vector);
  });
});
