// The set-up the push tests share: a temporary folder, the environment the tools run with, and
// owner and writer keys made by `cairn init`, with the writer key's key set (read once they exist).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import { tempDir } from "./cli.js";
import { cairnA } from "./async-cli.js";

export function pushKeys(prefix: string) {
  const dir = tempDir(prefix);
  afterAll(() => dir.cleanup());
  const at = (name: string) => join(dir.path, name);
  const keys = { dir, at, env: { CAIRN_WRITERS: at("writers"), CAIRN_CACHE: at("cache") }, keyset: "" };
  beforeAll(async () => {
    const r = await cairnA(["init", `file://${at("keys-repo")}`, "--owner-key", at("owner.key"), "--writer-key", at("writer.key")], { env: keys.env });
    expect(r.status, r.stderr.toString()).toBe(0);
    keys.keyset = /^keyset: ([0-9a-f]+)$/m.exec(readFileSync(at("writer.key"), "utf8"))![1];
  });
  return keys;
}
