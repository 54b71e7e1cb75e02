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
