// The C2SP CCTV age testkit (test/testkit, see its README): every vector, run as a test.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { CairnError } from "@cairn/errors";
import { dearmor, openWith } from "../src/index.js";

const dir = join(import.meta.dirname, "testkit");

interface Vector {
  name: string;
  expect: string;
  payload?: string;
  identities: string[];
  passphrases: string[];
  armored: boolean;
  compressed: boolean;
  file: Uint8Array;
}

function readVector(name: string): Vector {
  const bytes = readFileSync(join(dir, name));
  const end = bytes.indexOf("\n\n");
  const v: Vector = { name, expect: "", identities: [], passphrases: [], armored: false, compressed: false, file: bytes.subarray(end + 2) };
  for (const line of bytes.subarray(0, end).toString("utf8").split("\n")) {
    const [key, value] = [line.slice(0, line.indexOf(": ")), line.slice(line.indexOf(": ") + 2)];
    if (key === "expect") v.expect = value;
    else if (key === "payload") v.payload = value;
    else if (key === "identity") v.identities.push(value);
    else if (key === "passphrase") v.passphrases.push(value);
    else if (key === "armored") v.armored = value === "yes";
    else if (key === "compressed") v.compressed = value === "zlib";
  }
  // Large vectors are stored zlib-compressed ("compressed: zlib").
  if (v.compressed) v.file = new Uint8Array(inflateSync(v.file));
  return v;
}

async function open(v: Vector): Promise<Uint8Array> {
  const file = v.armored ? await dearmor(v.file) : v.file;
  return openWith(file, { identities: v.identities, passphrases: v.passphrases });
}

// What each testkit outcome must look like as a cairn error.
const failures: Record<string, { kind: string; message: RegExp }> = {
  "no match": { kind: "key", message: /^no identity matches|^wrong passphrase/ },
  "HMAC failure": { kind: "integrity", message: /^age header MAC:/ },
  "header failure": { kind: "integrity", message: /^age header:/ },
  "payload failure": { kind: "integrity", message: /^age payload:/ },
  "armor failure": { kind: "integrity", message: /^age armor:/ },
};

const vectors = readdirSync(dir).filter((n) => n !== "README.md").sort().map(readVector);

describe("age testkit", () => {
  it("has every vector of the CCTV collection", () => {
    expect(vectors.length).toBe(143);
    expect(new Set(vectors.map((v) => v.expect))).toEqual(new Set(["success", ...Object.keys(failures)]));
  });

  for (const v of vectors) {
    if (v.expect === "success") {
      it(`${v.name}: decrypts to the expected payload`, async () => {
        const plaintext = await open(v);
        expect(createHash("sha256").update(plaintext).digest("hex")).toBe(v.payload);
      });
    } else {
      const want = failures[v.expect];
      it(`${v.name}: fails with ${v.expect}, releasing no plaintext`, async () => {
        let released: Uint8Array | undefined;
        let error: unknown;
        try {
          released = await open(v);
        } catch (err) {
          error = err;
        }
        expect(released).toBeUndefined();
        expect(error).toBeInstanceOf(CairnError);
        expect({ kind: (error as CairnError).kind, message: (error as CairnError).message }).toMatchObject({
          kind: want.kind,
          message: expect.stringMatching(want.message),
        });
      });
    }
  }
});
