// Costs that must follow what a tool needs, not the size of the repository: a restore of one
// file reads the manifest and that file's data, not the rest of its pack. Each test counts
// bytes or requests (through --stats or a counting storage), never time.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createCipheriv } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir, type Result } from "./helpers/cli.js";
import { shA } from "./helpers/async-cli.js";

const dir = tempDir("cairn-scale-");
afterAll(() => dir.cleanup());
const at = (name: string) => join(dir.path, name);
const url = (name: string) => `file://${at(name)}`;
const env = { CAIRN_WRITERS: at("writers"), CAIRN_CACHE: at("cache"), CAIRN_WRITER_KEY: "", CAIRN_OWNER_KEY: "" };
const run = (script: string): Promise<Result> => shA(script, { cwd: dir.path, env });

function noise(n: number, seed: number): Buffer {
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(seed);
  return createCipheriv("chacha20", Buffer.alloc(32, 7), iv).update(Buffer.alloc(n));
}

async function ok(pending: Promise<Result>): Promise<Result> {
  const r = await pending;
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return r;
}

const FILES = 400;
const FILE_SIZE = 20_000;

beforeAll(async () => {
  // A mail folder: many small files, one chunk each, all in one pack after their manifest chunks.
  mkdirSync(at("src/mail"), { recursive: true });
  for (let i = 0; i < FILES; i++) writeFileSync(at(`src/mail/m${String(i).padStart(4, "0")}.eml`), noise(FILE_SIZE, i));
  await ok(run("cairn key new -o o.key >/dev/null && cairn key writer -i o.key -o w.key >/dev/null"));
  const init = await run(`cairn init ${url("repo")} --owner-key o.key --writer-key w.key`);
  expect(init.status).toBe(0);
  await ok(run(`cd src && cairn backup -k ../w.key ${url("repo")} mail >/dev/null`));
});

describe("restoring one file", () => {
  it("pull -i with a PATH reads the manifest and that file's chunk, not the rest of its pack", async () => {
    const r = await ok(run(`cairn pull -i o.key ${url("repo")} latest mail/m0001.eml --stats 2> one.stats | cairn seal -d -i o.key | cairn chunk -d -i o.key | cairn snapshot -x --stdout > one.eml`));
    expect(r.status).toBe(0);
    expect(Buffer.compare(readFileSync(at("one.eml")), noise(FILE_SIZE, 1))).toBe(0);
    const stats = JSON.parse(readFileSync(at("one.stats"), "utf8"));
    // The manifest of 400 entries is some 100 KB sealed, the file 20 KB: the 8 MB of the
    // other files that follow it in the pack are not read.
    expect(stats.bytesIn).toBeLessThan(FILES * FILE_SIZE * 0.05);
  });
});
