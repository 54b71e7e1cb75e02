// What a backup reads: the same sources as `cairn snapshot`, run by @cairn/snapshot's own stages.
import type { Frame } from "@cairn/protocol";
import { snapshotCommand, snapshotPaths, snapshotStdin, snapshotTar, type StartOptions } from "@cairn/snapshot";

export type Source =
  | { kind: "paths"; paths: string[]; exclude?: string[]; oneFileSystem?: boolean }
  | { kind: "tar" }
  | { kind: "stdin"; name: string }
  | { kind: "command"; command: string[]; name: string };

/** The plain stream of a source, exactly as `cairn snapshot` would write it. */
export function snapshotSource(source: Source, start: StartOptions = {}, onCommand?: (pid: number) => void): AsyncIterable<Frame> {
  switch (source.kind) {
    case "paths":
      return snapshotPaths(source.paths, { ...start, exclude: source.exclude, oneFileSystem: source.oneFileSystem });
    case "tar":
      return snapshotTar(start);
    case "stdin":
      return snapshotStdin({ ...start, name: source.name });
    case "command":
      return snapshotCommand(source.command, { ...start, name: source.name, onCommand });
  }
}
