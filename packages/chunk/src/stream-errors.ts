import { CairnError } from "@cairn/errors";

/** How an error names an entry: its path as JSON, so odd names stay on one line. */
export function entryLabel(entry: Record<string, any>): string {
  return `entry ${JSON.stringify(String(entry.path ?? "?"))}`;
}

/** An ERROR frame met in-process (fused stages), as decodeFrames would report it. */
export function upstreamError(meta: Record<string, any>): CairnError {
  const who = typeof meta.tool === "string" ? meta.tool : "an upstream stage";
  return new CairnError("upstream", `${who} failed: ${typeof meta.message === "string" ? meta.message : "no message"}`);
}
