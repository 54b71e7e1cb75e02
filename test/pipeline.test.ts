// The whole chain, end to end, as a user runs it: snapshot | chunk | seal | seal -d | chunk -d |
// snapshot -x reproduces a directory exactly, for each kind of owner key.
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { createCipheriv } from "node:crypto";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sh, tempDir } from "./helpers/cli.js";

const dir = tempDir("cairn-pipeline-");
afterAll(() => dir.cleanup());
const at = (name: string) => join(dir.path, name);

function noise(n: number, seed: number): Buffer {
  return createCipheriv("chacha20", Buffer.alloc(32, seed), Buffer.alloc(16)).update(Buffer.alloc(n));
}

// A tree with text, incompressible data, a repeated file, an empty file, a symlink and a
// name that is not valid UTF-8.
const src = at("src");
mkdirSync(join(src, "docs/deep/er"), { recursive: true });
mkdirSync(join(src, "bin"));
let text = "";
for (let i = 0; text.length < 1_200_000; i++) text += `${i}: all work and no play makes a dull backup\n`;
writeFileSync(join(src, "docs/log.txt"), text);
writeFileSync(join(src, "bin/blob"), noise(1_600_000, 1));
writeFileSync(join(src, "bin/blob-copy"), noise(1_600_000, 1));
writeFileSync(join(src, "docs/deep/er/empty"), "");
writeFileSync(join(src, "docs/deep/small.json"), '{"a":1}\n');
writeFileSync(Buffer.concat([Buffer.from(join(src, "docs/")), Buffer.from([0x66, 0xff, 0x6f])]), "latin-1 name\n");
symlinkSync("../docs/log.txt", join(src, "bin/link"));

const owners = [
  { name: "an X25519 owner", flags: "", env: {} },
  { name: "a hybrid (--pq) owner", flags: "--pq", env: {} },
  { name: "a passphrase-protected owner", flags: "--passphrase-file pass --work-factor 10", env: { CAIRN_PASSPHRASE: "correct horse battery staple" } },
];

describe("snapshot | chunk | seal | seal -d | chunk -d | snapshot -x", () => {
  writeFileSync(at("pass"), "correct horse battery staple\n");
  for (const [n, owner] of owners.entries()) {
    it(`reproduces the directory exactly for ${owner.name}`, () => {
      const k = `k${n}`;
      const out = `out${n}`;
      const env = { ...owner.env, CAIRN_WRITERS: at(`${k}.writers`), CAIRN_WRITER_KEY: "" };
      const keys = sh(`cairn key new ${owner.flags} -o ${k}.owner && cairn key writer -i ${k}.owner -o ${k}.writer`, { cwd: dir.path, env });
      expect(keys.stderr).toBe("");
      expect(keys.status).toBe(0);
      const run = sh(
        `cairn snapshot src | cairn chunk -k ${k}.writer | cairn seal -k ${k}.writer | cairn seal -d -i ${k}.owner | cairn chunk -d -i ${k}.owner | cairn snapshot -x ${out}`,
        { cwd: dir.path, env },
      );
      expect(run.stderr).toBe("");
      expect(run.status).toBe(0);
      const diff = sh(`diff -r --no-dereference src ${out}/src && [ "$(readlink ${out}/src/bin/link)" = ../docs/log.txt ]`, { cwd: dir.path });
      expect(diff.stdout.toString() + diff.stderr).toBe("");
      expect(diff.status).toBe(0);
    });
  }
});
