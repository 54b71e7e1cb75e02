import { storedPath } from "@cairn/protocol";

/**
 * Entry paths named on the command line → `--include` patterns that match exactly them (and,
 * for a directory, what lies under it): anchored at the root, pattern characters escaped. A PATH
 * that is only slashes (`/`) or empty names the whole snapshot, as pull's selection reads it
 * (docs/sealing.md, "Restoring some paths"): then there is no pattern at all.
 */
export function includePatterns(paths: string[]): string[] {
  const names = paths.map(storedPath);
  if (names.includes("")) return [];
  return names.map((p) => `/${p.replace(/[\\*?[\]]/g, "\\$&")}`);
}
