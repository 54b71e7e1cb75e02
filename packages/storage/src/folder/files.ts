// Durable, atomic file writes: a temporary file in the target's directory, written, fsynced,
// then renamed (or hard-linked, for create-only-if-absent), and the directory fsynced, so a crash
// leaves either the old state or the whole new object, never a torn one.
import { randomBytes } from "node:crypto";
import { link, mkdir, open, rename, stat, unlink, type FileHandle } from "node:fs/promises";
import { CairnError, makeDirs } from "@cairn/errors";
import { dirname, join, relative, sep } from "node:path";
import { TEMP_PREFIX } from "../key.js";

/** What link() says on file systems that have no hard links. */
const noHardLinks = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EMLINK"]);

export function tempPath(dir: string): string {
  return join(dir, `${TEMP_PREFIX}${randomBytes(8).toString("hex")}`);
}

/** Writes every byte (a single write() may write fewer). */
export async function writeAll(fh: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.length - done);
    done += bytesWritten;
  }
}

/** Makes a directory (and parents) and makes the new entries durable in their parents. */
export async function ensureDir(dir: string): Promise<void> {
  const first = makeDirs(dir);
  if (first === undefined) return;
  // every directory from first's parent down to dir's parent gained an entry
  const parts = relative(dirname(first), dir).split(sep);
  let d = dirname(first);
  for (const part of parts) {
    await syncDir(d);
    d = join(d, part);
  }
}

/**
 * Makes `dir` and any missing parents below `root`, each made durable in its parent, but never
 * `root` itself: a root that is gone (removed, its disk unmounted mid-push) is notFound, so a
 * push cannot land in an empty mount point and report a commit.
 */
export async function ensureDirBelow(dir: string, root: string, url: string): Promise<void> {
  const gone = (err: unknown) => new CairnError("notFound", `the repository folder ${root} of ${url} is gone (removed, or its disk unmounted?)`, { cause: err });
  if (dir === root) {
    try {
      await stat(root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw gone(err);
      throw err;
    }
    return;
  }
  for (let attempt = 0; ; attempt++) {
    try {
      await mkdir(dir);
      await syncDir(dirname(dir));
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST") return;
      if (code !== "ENOENT" || attempt > 0) throw err;
      if (dirname(dir) === root) throw gone(err);
      await ensureDirBelow(dirname(dir), root, url);
    }
  }
}

export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Installs a finished temporary file at path unless path exists; false if it did. link() is
 * atomic and fails with EEXIST. File systems without hard links (FAT, exFAT, some FUSE) get an
 * exclusive create that claims the name, then a rename of the full file over the claim: still
 * one winner, but a reader may see the claim empty for a moment.
 */
async function linkExclusive(tmp: string, path: string): Promise<boolean> {
  try {
    await link(tmp, path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "";
    if (code === "EEXIST") return false;
    if (!noHardLinks.has(code)) throw err;
  }
  try {
    await (await open(path, "wx", 0o600)).close();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(path).catch(() => {}); // do not leave an empty claim behind
    throw err;
  }
  return true;
}

/**
 * Writes body to a new temporary file next to path and installs it. With exclusive, installs by
 * link(), which fails with EEXIST if path exists, so concurrent creators race safely and exactly
 * one wins; returns false if path already existed.
 */
export async function writeFileAtomic(path: string, body: Uint8Array | AsyncIterable<Uint8Array>, exclusive: boolean): Promise<boolean> {
  const dir = dirname(path);
  const tmp = tempPath(dir);
  const fh = await open(tmp, "wx", 0o600);
  let installed = false;
  try {
    try {
      if (body instanceof Uint8Array) await writeAll(fh, body);
      else for await (const chunk of body) await writeAll(fh, chunk);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (exclusive) {
      if (!(await linkExclusive(tmp, path))) return false;
      installed = true;
      await unlink(tmp).catch(() => {});
    } else {
      await rename(tmp, path);
      installed = true;
    }
    await syncDir(dir);
    return true;
  } finally {
    if (!installed) await unlink(tmp).catch(() => {});
  }
}
