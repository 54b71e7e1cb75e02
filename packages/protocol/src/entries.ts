// The JSON carried by START, ENTRY, ENTRY_END and END frames (docs/protocol.md, "Frame types").
// Stages copy fields they do not know through unchanged.

export type StreamKind = "plain" | "chunked" | "sealed";

export interface StartMeta {
  stream: StreamKind;
  /** The protocol's format of the stage-specific parts (stays 1 for v1). */
  host: string;
  /** ISO-8601 UTC time the snapshot was taken. */
  time: string;
  /** Source label that retention groups by. */
  label: string;
  tags: string[];
  [more: string]: unknown;
}

export type EntryKind = "file" | "dir" | "symlink" | "hardlink";

export interface EntryMeta {
  kind: EntryKind;
  /** Relative path, "/"-separated, no "." or ".." components. */
  path: string;
  /** Base64 of the path's raw bytes, present only when they are not valid UTF-8 (then `path` is for display). */
  pathB64?: string;
  mode: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  /** Modification time: nanoseconds since the Unix epoch, as a decimal string. */
  mtime: string;
  /** symlink: the target as stored; hardlink: the path of the entry it links to. */
  target?: string;
  targetB64?: string;
  /** Raw stdin or a command's output: a clean EOF cannot prove the data is complete. */
  unverified?: boolean;
  /**
   * file: its size when reading began, when known (absent for stdin and commands). A hint for
   * writers that need a size up front (tar); ENTRY_END.size is what the data actually holds.
   */
  size?: number;
  [more: string]: unknown;
}

export interface EntryEndMeta {
  size: number;
  /** Hex SHA-256 of the entry's content as read. */
  sha256: string;
  /** Set when the content may not be what the file held (changed while read, read error). */
  partial?: string;
  [more: string]: unknown;
}

export interface EndMeta {
  /** Filled in by the encoder. */
  frames?: number;
  bytes?: number;
  digest?: string;
  entries?: number;
  /** Number of entries that could not be read completely. */
  partial?: number;
  /** True when some entry's completeness could not be verified (raw stdin). */
  unverified?: boolean;
  [more: string]: unknown;
}

// ignoreBOM: a name may begin with U+FEFF, which the decoder would otherwise drop.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lossyUtf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/** Encodes raw path bytes as (path, pathB64?) so names that are not valid UTF-8 survive JSON. */
export function encodeName(raw: Uint8Array): { text: string; b64?: string } {
  try {
    return { text: strictUtf8.decode(raw) };
  } catch {
    return { text: lossyUtf8.decode(raw), b64: Buffer.from(raw).toString("base64") };
  }
}

/** The raw bytes of a name written by encodeName. */
export function decodeName(text: string, b64?: string): Buffer {
  return b64 !== undefined ? Buffer.from(b64, "base64") : Buffer.from(text, "utf8");
}

/**
 * A PATH named on a command line (restore, pull, snapshot -x --stdout) as entries store it:
 * without leading or trailing "/" (`snapshot /srv/x` stores srv/x). "" (from "/") is the whole tree.
 */
export function storedPath(given: string): string {
  return given.replace(/^\/+|\/+$/g, "");
}
