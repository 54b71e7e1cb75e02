// cairn snapshot: the plaintext edge of the pipeline (docs/snapshot.md).
// Sources → plain stream, and plain stream → files, a tar stream or one entry's bytes.
export { snapshotPaths, storedRoot, type WalkOptions } from "./walk.js";
export { snapshotTar, type TarOptions } from "./tar-in.js";
export { snapshotStdin, snapshotCommand, type RawOptions } from "./raw.js";
export type { StartOptions } from "./start.js";
export { extractToDir, type ExtractOptions, type ExtractSummary } from "./extract-dir.js";
export { extractToTar } from "./extract-tar.js";
export { extractToStdout } from "./extract-stdout.js";
export { EntryReader, type Entry } from "./read-entries.js";
export { PathFilter, compilePattern } from "./glob.js";
export { unsafePathReason } from "./entry-path.js";
export { removeTempFiles } from "./temp-files.js";
