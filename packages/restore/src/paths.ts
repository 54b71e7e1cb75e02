/**
 * Entry paths named on the command line → `--include` patterns that match exactly them (and,
 * for a directory, what lies under it): anchored at the root, pattern characters escaped.
 */
export function includePatterns(paths: string[]): string[] {
  return paths.map((p) => `/${p.replace(/^\/+/, "").replace(/\/+$/, "").replace(/[\\*?[\]]/g, "\\$&")}`);
}
