import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ALGORITHM, chunkId, chunkSizes, deriveGear } from "../src/index.js";
import { referenceCuts } from "./reference.js";
import { makeInput, type InputSpec } from "./vectors/input.js";

interface Vector {
  name: string;
  chunkerSecret: string;
  idKey: string;
  params: { min: number; avg: number; max: number };
  input: InputSpec;
  cuts: number[];
  ids: string[];
}
const file = JSON.parse(readFileSync(new URL("./vectors/fastcdc-v1.json", import.meta.url), "utf8")) as {
  algorithm: string;
  gear: { secret: string; first: number[]; sha256: string }[];
  cases: Vector[];
};

describe("chunking test vectors (packages/chunk/test/vectors/fastcdc-v1.json)", () => {
  it("are for this algorithm", () => {
    expect(file.algorithm).toBe(ALGORITHM);
  });

  it.each(file.gear)("gear table for secret $secret", (g) => {
    const table = deriveGear(Buffer.from(g.secret, "hex"));
    expect(Array.from(table.subarray(0, 4), (w) => w >>> 0)).toEqual(g.first);
  });

  it.each(file.cases)("$name", (v) => {
    const data = makeInput(v.input);
    const secret = Buffer.from(v.chunkerSecret, "hex");
    const sizes = chunkSizes(secret, data, v.params);
    const cuts: number[] = [];
    const ids: string[] = [];
    let at = 0;
    for (const size of sizes) {
      ids.push(chunkId(Buffer.from(v.idKey, "hex"), data.subarray(at, at + size)).toString("hex"));
      cuts.push((at += size));
    }
    expect(cuts).toEqual(v.cuts);
    expect(ids).toEqual(v.ids);
    expect(referenceCuts(secret, data, v.params)).toEqual(v.cuts);
  });
});
