// The trust file of pinned writers (docs/keys.md, "Trust file"): one hex Ed25519 public key per
// line, `#` comments, blank lines ignored, any other line an error; a missing file pins no one.
// @cairn/keys reads it too, but that package loads the owner-key and age code, which a keyless
// transport tool must not import: this is a second reading of the same few lines of spec.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { CairnError } from "@cairn/errors";

export function trustFilePath(path?: string): string {
  if (path) return path;
  if (process.env.CAIRN_WRITERS) return process.env.CAIRN_WRITERS;
  return join(process.env.XDG_CONFIG_HOME || join(homedir(), ".config"), "cairn", "writers");
}

export function readPinnedWriters(path?: string): Set<string> {
  const file = trustFilePath(path);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return new Set();
    throw new CairnError("io", `cannot read the trusted writers file ${file}: ${(err as Error).message}`);
  }
  const keys = new Set<string>();
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") continue;
    if (!/^[0-9a-fA-F]{64}$/.test(line)) throw new CairnError("key", `trusted writers file ${file} line ${i + 1}: not a hex Ed25519 public key`);
    keys.add(line.toLowerCase());
  }
  return keys;
}
