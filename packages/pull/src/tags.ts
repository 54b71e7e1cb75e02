/** The flags that pick among snapshots (pull, restore, ls): --tag is read by repeatedTags. */
export const SNAPSHOT_FILTER_ARGS = {
  host: { type: "string", description: "only snapshots from this host" },
  label: { type: "string", description: "only snapshots with this source label" },
  tag: { type: "string", description: "only snapshots with this tag (repeat, or comma-separate, for several: all must match)" },
} as const;

/** The local cache's flags of the tools that read a repository's index and snapshots. */
export const CACHE_ARGS = {
  cache: { type: "string", description: "local cache directory (default $CAIRN_CACHE or ~/.cache/cairn)" },
  "no-cache": { type: "boolean", description: "keep no local cache" },
} as const;

/** Every --tag value of a command line (citty keeps only the last), commas splitting further. */
export function repeatedTags(rawArgs: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i];
    if (a === "--") break;
    if (a === "--tag" && i + 1 < rawArgs.length) out.push(rawArgs[++i]);
    else if (a.startsWith("--tag=")) out.push(a.slice("--tag=".length));
  }
  return out.flatMap((t) => t.split(",")).filter(Boolean);
}
