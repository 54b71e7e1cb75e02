import { exitCodes, type ErrorKind } from "./codes.js";

/** The one error type cairn throws on purpose: a kind (which fixes the exit code) and a one-line message. */
export class CairnError extends Error {
  readonly kind: ErrorKind;

  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.name = "CairnError";
  }

  get exitCode(): number {
    return exitCodes[this.kind];
  }
}

const errnoKinds: Record<string, ErrorKind> = {
  ENOENT: "notFound",
  ENOSPC: "io",
  EDQUOT: "io",
  EACCES: "io",
  EPERM: "io",
  EROFS: "io",
  EIO: "io",
  EISDIR: "io",
  ENOTDIR: "io",
  EEXIST: "refused",
  EPIPE: "io",
  ENAMETOOLONG: "io",
};

/** Turns anything thrown into a CairnError, keeping system error codes meaningful. */
export function toCairnError(err: unknown): CairnError {
  if (err instanceof CairnError) return err;
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code && errnoKinds[code]) {
      const kind = errnoKinds[code];
      const text = code === "ENOSPC" ? `disk full: ${err.message}` : err.message;
      return new CairnError(kind, text, { cause: err });
    }
    return new CairnError("failed", err.message || String(err), { cause: err });
  }
  return new CairnError("failed", String(err));
}

/**
 * `text` safe to print on a terminal: control characters (C0 but newline, DEL, C1), which a
 * name from a stream may carry, shown as \xHH instead of being sent to the terminal.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}
