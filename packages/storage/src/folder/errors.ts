import { CairnError } from "@cairn/errors";

/** One line naming the object and the folder: ENOENT → notFound, a full disk → io, the rest → io. */
export function folderError(err: unknown, doing: "reading" | "writing" | "deleting" | "listing", key: string, url: string): CairnError {
  if (err instanceof CairnError) return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  const where = `${key} in ${url}`;
  if ((code === "ENOENT" || code === "ENOTDIR") && doing !== "writing") {
    return new CairnError("notFound", `object ${key} not found in ${url}`, { cause: err });
  }
  if (code === "ENOSPC" || code === "EDQUOT") return new CairnError("io", `disk full writing ${where}`, { cause: err });
  if (code === "EACCES" || code === "EPERM") return new CairnError("io", `permission denied ${doing} ${where}`, { cause: err });
  if (code === "EROFS") return new CairnError("io", `read-only file system: cannot write ${where}`, { cause: err });
  const what = code ? `${code}` : (err as Error)?.message ?? String(err);
  return new CairnError("io", `error ${doing} ${where}: ${what}`, { cause: err });
}
