// mkdir -p without node:fs's recursive mode, which loops forever where mkdir answers ENOENT
// under a parent that exists (/proc: `mkdir /proc/x` is ENOENT, `mkdir /proc` EEXIST, and
// Node retries the child). Here each missing level is made once, top down, and an error ends it.
// Synchronous on purpose: a few stat/mkdir calls, and one version to keep right.
import { mkdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";

const code = (err: unknown) => (err as NodeJS.ErrnoException | undefined)?.code;

/** Makes `dir` and its missing parents; answers the first directory it made (none: undefined), as mkdir -p does. */
export function makeDirs(dir: string, mode = 0o777): string | undefined {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      if (statSync(d).isDirectory()) break;
      mkdirSync(d); // a file in the way: mkdir names it (EEXIST)
    } catch (err) {
      if (code(err) !== "ENOENT" || dirname(d) === d) throw err;
      missing.unshift(d);
    }
  }
  for (const d of missing) {
    try {
      mkdirSync(d, { mode });
    } catch (err) {
      if (code(err) !== "EEXIST" || !statSync(d).isDirectory()) throw err; // made meanwhile: fine
    }
  }
  return missing[0];
}
