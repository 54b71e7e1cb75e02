// Trusted writers (docs/keys.md, "Trust file"): the Ed25519 public keys this machine accepts
// snapshot signatures from. Pinned locally, never read from a bucket.
//
//   # cairn trusted writers: one hex Ed25519 public key per line, a comment may follow
//   3b6a27bc…  # db-host, 2026-11-27
import { appendFileSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { CairnError, makeDirs, toCairnError } from "@cairn/errors";

export const WRITERS_ENV = "CAIRN_WRITERS";

/** The trust file: the given path, else $CAIRN_WRITERS, else $XDG_CONFIG_HOME/cairn/writers (~/.config). */
export function trustFilePath(path?: string): string {
  if (path) return path;
  const fromEnv = process.env[WRITERS_ENV];
  if (fromEnv) return fromEnv;
  const config = process.env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(config, "cairn", "writers");
}

/** The pinned writers' hex public keys; a missing file pins none. */
export function readTrustedWriters(path?: string): Set<string> {
  const file = trustFilePath(path);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return new Set();
    const e = toCairnError(err);
    throw new CairnError(e.kind, `cannot read the trusted writers file ${file}: ${e.message}`);
  }
  const keys = new Set<string>();
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") continue;
    if (!/^[0-9a-fA-F]{64}$/.test(line)) {
      throw new CairnError("key", `trusted writers file ${file} line ${i + 1}: not a hex Ed25519 public key`);
    }
    keys.add(line.toLowerCase());
  }
  return keys;
}

/** Adds a writer's public key to the trust file (creating it); returns false if it was already there. */
export function pinWriter(publicKey: string, opts: { path?: string; note?: string } = {}): boolean {
  if (!/^[0-9a-fA-F]{64}$/.test(publicKey)) throw new CairnError("usage", `not a writer public key (64 hex characters): ${publicKey}`);
  const key = publicKey.toLowerCase();
  const file = trustFilePath(opts.path);
  if (readTrustedWriters(file).has(key)) return false;
  const note = opts.note ? `  # ${opts.note.replace(/[\r\n]+/g, " ")}` : "";
  try {
    makeDirs(dirname(file), 0o700);
    let prefix = "";
    try {
      const existing = readFileSync(file, "utf8");
      if (existing.length > 0 && !existing.endsWith("\n")) prefix = "\n";
    } catch {
      prefix = "# cairn trusted writers: one hex Ed25519 public key per line\n";
    }
    appendFileSync(file, `${prefix}${key}${note}\n`, { mode: 0o644 });
  } catch (err) {
    const e = toCairnError(err);
    throw new CairnError(e.kind, `cannot pin the writer in ${file}: ${e.message}`);
  }
  return true;
}
