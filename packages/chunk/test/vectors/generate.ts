// Writes fastcdc-v1.json: run after a deliberate change of the algorithm only (then bump its version):
//   npx tsc -b packages/chunk && node packages/chunk/test/vectors/generate.ts
// The vectors pin cut points and ids across runs, machines and reimplementations.
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { ALGORITHM, chunkId, chunkSizes, deriveGear, type ChunkerParams } from "../../dist/index.js";
import { makeInput, type InputSpec } from "./input.ts";

const hex = (s: string) => Buffer.from(s, "utf8").toString("hex");
const secretA = hex("cairn test vectors: chunker secret A");
const secretB = hex("cairn test vectors: chunker secret B");
const idKey = hex("cairn test vectors: id key");
const small: ChunkerParams = { min: 1024, avg: 4096, max: 16384 };
const defaults: ChunkerParams = { min: 524288, avg: 1048576, max: 8388608 };

const cases: { name: string; chunkerSecret: string; idKey: string; params: ChunkerParams; input: InputSpec }[] = [
  { name: "random, small sizes", chunkerSecret: secretA, idKey, params: small, input: { kind: "chacha20", seed: "vector 1", length: 262144 } },
  { name: "same input, other chunker secret", chunkerSecret: secretB, idKey, params: small, input: { kind: "chacha20", seed: "vector 1", length: 262144 } },
  { name: "random, default sizes", chunkerSecret: secretA, idKey, params: defaults, input: { kind: "chacha20", seed: "vector 3", length: 12582912 } },
  { name: "zeros: no cut point, max-size chunks", chunkerSecret: secretA, idKey, params: small, input: { kind: "zeros", length: 100000 } },
  { name: "periodic bytes", chunkerSecret: secretA, idKey, params: small, input: { kind: "period251", length: 100000 } },
  { name: "shorter than min: one chunk", chunkerSecret: secretA, idKey, params: small, input: { kind: "chacha20", seed: "vector 6", length: 1000 } },
  { name: "empty: no chunk", chunkerSecret: secretA, idKey, params: small, input: { kind: "zeros", length: 0 } },
];

const gear = (secret: string) => {
  const table = deriveGear(Buffer.from(secret, "hex"));
  const bytes = Buffer.alloc(1024);
  table.forEach((w, i) => bytes.writeInt32BE(w, 4 * i));
  return { secret, first: Array.from(table.subarray(0, 4), (w) => w >>> 0), sha256: createHash("sha256").update(bytes).digest("hex") };
};

const out = {
  algorithm: ALGORITHM,
  note: "cuts are the end offsets of the chunks in the input; ids are hex HMAC-SHA256(idKey, chunk)",
  gear: [gear(secretA), gear(secretB)],
  cases: cases.map((c) => {
    const data = makeInput(c.input);
    const sizes = chunkSizes(Buffer.from(c.chunkerSecret, "hex"), data, c.params);
    const cuts: number[] = [];
    const ids: string[] = [];
    let at = 0;
    for (const size of sizes) {
      ids.push(chunkId(Buffer.from(c.idKey, "hex"), data.subarray(at, at + size)).toString("hex"));
      at += size;
      cuts.push(at);
    }
    return { ...c, cuts, ids };
  }),
};
writeFileSync(new URL("./fastcdc-v1.json", import.meta.url), JSON.stringify(out, null, 1) + "\n");
console.log(out.cases.map((c) => `${c.name}: ${c.cuts.length} chunks`).join("\n"));
