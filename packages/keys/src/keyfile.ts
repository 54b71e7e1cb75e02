// Reading and writing secret key files: mode 0600, never overwritten, warnings for
// files others can read.
import { closeSync, constants, openSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import { CairnError, toCairnError } from "@cairn/errors";

export function readKeyFile(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (err) {
    const e = toCairnError(err);
    if (e.kind === "notFound") throw new CairnError("notFound", `${what} ${path} does not exist`);
    throw new CairnError(e.kind, `cannot read ${what} ${path}: ${e.message}`);
  }
}

/** One line on stderr if a secret key file is readable or writable by group or others. */
export function warnIfExposed(path: string, what: string): void {
  try {
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o077) {
      process.stderr.write(`cairn: warning: ${what} ${path} is accessible by others (mode ${mode.toString(8).padStart(4, "0")}); run chmod 600 ${path}\n`);
    }
  } catch {
    // Not a regular file (a pipe, /dev/stdin): nothing to warn about.
  }
}

/** Creates `path` with mode 0600 holding `text`; refuses to overwrite an existing file. */
export function writeKeyFile(path: string, text: string, what: string): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (err) {
    const e = toCairnError(err);
    if ((err as NodeJS.ErrnoException).code === "EEXIST") throw new CairnError("refused", `${what} ${path} already exists; not overwriting it`);
    throw new CairnError(e.kind, `cannot create ${what} ${path}: ${e.message}`);
  }
  try {
    writeSync(fd, text);
    closeSync(fd);
  } catch (err) {
    // A half-written key is worse than none: remove it.
    closeSync(fd);
    unlinkSync(path);
    const e = toCairnError(err);
    throw new CairnError(e.kind, `cannot write ${what} ${path}: ${e.message}`);
  }
}
