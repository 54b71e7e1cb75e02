import { rmSync } from "node:fs";

// Temporary files and directories in use, so that a signal (SIGINT, SIGTERM) can remove them
// before the process exits: an interrupted restore leaves no `.cairn-*.tmp` behind.
const live = new Set<string | Buffer>();

export function trackTemp(path: string | Buffer): void {
  live.add(path);
}

export function untrackTemp(path: string | Buffer): void {
  live.delete(path);
}

/** Removes every tracked temporary path, synchronously (safe inside a signal handler). */
export function removeTempFiles(): void {
  for (const p of live) rmSync(p, { recursive: true, force: true });
  live.clear();
}
