import { constants, type Stats } from "node:fs";
import { link, lchown, lstat, lutimes, mkdir, open, realpath, rename, symlink, unlink, type FileHandle } from "node:fs/promises";
import { CairnError, toCairnError } from "@cairn/errors";
import { encodeName, type EntryMeta, type Frame } from "@cairn/protocol";
import { components } from "./entry-path.js";
import { PathFilter } from "./glob.js";
import { localGid, localUid } from "./owners.js";
import { EntryReader, type Entry } from "./read-entries.js";
import { trackTemp, untrackTemp } from "./temp-files.js";

export interface ExtractOptions {
  /** gitignore-style patterns: restore only entries that match (or lie under a match). */
  include?: string[];
  /** Replace existing files and links (never a directory by a file). Default: refuse. */
  overwrite?: boolean;
  /** Where warnings go. Default: stderr. */
  warn?: (message: string) => void;
}

export interface ExtractSummary {
  /** Entries restored. */
  restored: number;
  /** END.partial of the stream: entries the snapshot could not read completely. */
  partial: number;
  unverified: boolean;
}

const SLASH = Buffer.from("/");
const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_DIRECTORY } = constants;
const asRoot = process.getuid?.() === 0;

function join(a: Buffer, b: Buffer): Buffer {
  return Buffer.concat([a, SLASH, b]);
}

function shown(raw: Buffer): string {
  return encodeName(raw).text;
}

/** Seconds for utimes, exact to the microsecond: libuv truncates to µs, so aim at the middle of one. */
function seconds(mtimeNs: string): number {
  const us = BigInt(mtimeNs) / 1000n;
  return (Number(us) + 0.5) / 1e6;
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === "ENOENT";
}

async function writeFully(fh: FileHandle, chunk: Uint8Array): Promise<void> {
  for (let off = 0; off < chunk.length; ) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
}

async function lstatOrUndefined(p: Buffer): Promise<Stats | undefined> {
  try {
    return await lstat(p);
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

/**
 * Plain stream → files under `dir`, metadata restored (owner only as root). Never writes outside
 * `dir`: unsafe paths are refused, no symlink is followed while writing, each file goes to a
 * temporary name in its directory and is renamed into place only once its SHA-256 checks.
 * Directory modes and times are set after their contents. If the stream breaks off, what was
 * complete stays and the file in progress never appears under its name.
 */
export async function extractToDir(frames: AsyncIterable<Frame>, dir: string, opts: ExtractOptions = {}): Promise<ExtractSummary> {
  await mkdir(dir, { recursive: true });
  const root = Buffer.from(await realpath(dir));
  return new DirWriter(root, opts).run(new EntryReader(frames));
}

interface PendingDir {
  path: Buffer;
  abs: Buffer;
  meta: EntryMeta;
}

class DirWriter {
  private readonly include: PathFilter;
  private readonly warn: (message: string) => void;
  private readonly pending: PendingDir[] = [];
  /** The parent directory checked last (relative path, latin1), to skip re-checking a run of siblings. */
  private checkedParent: string | undefined;
  private tmpCounter = 0;
  private restored = 0;

  constructor(
    private readonly root: Buffer,
    private readonly opts: ExtractOptions,
  ) {
    this.include = new PathFilter(opts.include ?? []);
    this.warn = opts.warn ?? ((m: string) => process.stderr.write(`cairn-snapshot: ${m}\n`));
  }

  async run(reader: EntryReader): Promise<ExtractSummary> {
    for (let entry = await reader.next(); entry; entry = await reader.next()) {
      const isDir = entry.meta.kind === "dir";
      if (!this.include.empty && !this.include.matchesWithin(entry.meta.path, isDir)) continue;
      await this.leaveDirsUntil(entry.path);
      try {
        await this.restore(entry, reader);
      } catch (err) {
        // A file-system error names no path; say which entry it hit.
        if (err instanceof CairnError) throw err;
        const e = toCairnError(err);
        throw new CairnError(e.kind, `${shown(entry.path)}: ${e.message}`, { cause: err });
      }
      this.restored++;
    }
    await this.leaveDirsUntil(undefined);
    for (const w of reader.endWarnings()) this.warn(w);
    const end = reader.end ?? {};
    const partial = typeof end.partial === "number" ? end.partial : 0;
    return { restored: this.restored, partial, unverified: end.unverified === true };
  }

  private async restore(entry: Entry, reader: EntryReader): Promise<void> {
    const parts = components(entry.path);
    const parent = await this.parentDir(parts.slice(0, -1), true, entry.path);
    const abs = join(parent, parts[parts.length - 1]);
    const existing = await lstatOrUndefined(abs);
    const meta = entry.meta;

    if (meta.kind === "dir") {
      if (existing && !existing.isDirectory()) {
        if (!this.opts.overwrite) throw this.refuseOverwrite(entry.path);
        await unlink(abs);
      }
      if (!existing || !existing.isDirectory()) await mkdir(abs, 0o700);
      this.pending.push({ path: entry.path, abs, meta });
      await reader.finish();
      return;
    }

    if (existing) {
      if (existing.isDirectory()) throw new CairnError("refused", `refusing to replace the directory ${shown(entry.path)} with a ${meta.kind}`);
      if (!this.opts.overwrite) throw this.refuseOverwrite(entry.path);
    }
    const tmp = join(parent, Buffer.from(`.cairn-${process.pid}-${++this.tmpCounter}.tmp`));
    trackTemp(tmp);
    try {
      if (meta.kind === "file") {
        await this.writeFile(tmp, meta, reader);
      } else if (meta.kind === "symlink") {
        this.checkedParent = undefined;
        await symlink(entry.target!, tmp);
        if (asRoot) await this.chownLink(tmp, meta);
        await lutimes(tmp, Date.now() / 1000, seconds(meta.mtime));
        await reader.finish();
      } else {
        this.checkedParent = undefined;
        const tparts = components(entry.target!);
        const tdir = await this.parentDir(tparts.slice(0, -1), false, entry.target!);
        const tabs = join(tdir, tparts[tparts.length - 1]);
        const tst = await lstatOrUndefined(tabs);
        if (!tst) throw new CairnError("notFound", `hard link target ${shown(entry.target!)} was not restored`);
        if (tst.isDirectory()) throw new CairnError("refused", `hard link target ${shown(entry.target!)} is a directory`);
        await link(tabs, tmp);
        await reader.finish();
      }
      if (!this.opts.overwrite && (await lstatOrUndefined(abs))) throw this.refuseOverwrite(entry.path);
      await rename(tmp, abs);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw err;
    } finally {
      untrackTemp(tmp);
    }
  }

  private refuseOverwrite(path: Buffer): CairnError {
    return new CairnError("refused", `refusing to overwrite existing ${shown(path)} (use --overwrite)`);
  }

  private async writeFile(tmp: Buffer, meta: EntryMeta, reader: EntryReader): Promise<void> {
    const fh: FileHandle = await open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    // One write in flight: the thread pool writes a block while the next is decoded and hashed.
    let writing: Promise<void> | undefined;
    try {
      for await (const chunk of reader.content()) {
        await writing;
        writing = writeFully(fh, chunk);
        // Awaited before the next write; until then a failure must not count as unhandled.
        writing.catch(() => undefined);
      }
      await writing;
      writing = undefined;
      const end = await reader.finish();
      if (end?.partial) this.warn(`${meta.path}: restored as read; the snapshot marks it partial (${end.partial})`);
      if (asRoot) {
        const uid = localUid(meta.uname, meta.uid);
        const gid = localGid(meta.gname, meta.gid);
        if (uid !== undefined && gid !== undefined) await fh.chown(uid, gid);
      }
      await fh.chmod(meta.mode & 0o7777);
      await fh.utimes(Date.now() / 1000, seconds(meta.mtime));
    } finally {
      await writing?.catch(() => undefined);
      await fh.close();
    }
  }

  private async chownLink(p: Buffer, meta: EntryMeta): Promise<void> {
    const uid = localUid(meta.uname, meta.uid);
    const gid = localGid(meta.gname, meta.gid);
    if (uid !== undefined && gid !== undefined) await lchown(p, uid, gid);
  }

  /**
   * The absolute path of a directory inside the root, checking that every component is a real
   * directory (a symlink is refused, never followed). Missing ones are created when `create`.
   */
  private async parentDir(parts: Buffer[], create: boolean, forPath: Buffer): Promise<Buffer> {
    let abs = this.root;
    for (const p of parts) abs = join(abs, p);
    const key = parts.map((p) => p.toString("latin1")).join("/");
    if (create && key === this.checkedParent) return abs;
    abs = this.root;
    for (let i = 0; i < parts.length; i++) {
      abs = join(abs, parts[i]);
      const st = await lstatOrUndefined(abs);
      const prefix = () => shown(Buffer.concat(parts.slice(0, i + 1).flatMap((p, j) => (j ? [SLASH, p] : [p]))));
      if (!st) {
        if (!create) throw new CairnError("notFound", `${shown(forPath)}: directory ${prefix()} does not exist`);
        await mkdir(abs, 0o755);
        continue;
      }
      if (st.isSymbolicLink()) throw new CairnError("refused", `refusing to write ${shown(forPath)}: ${prefix()} is a symlink, and cairn never writes through one`);
      if (!st.isDirectory()) throw new CairnError("refused", `refusing to write ${shown(forPath)}: ${prefix()} is not a directory`);
    }
    if (create) this.checkedParent = key;
    return abs;
  }

  /** Sets the metadata of directories whose contents are complete: those `next` is not inside. */
  private async leaveDirsUntil(next: Buffer | undefined): Promise<void> {
    while (this.pending.length > 0) {
      const top = this.pending[this.pending.length - 1];
      const inside = next !== undefined && next.length > top.path.length && next[top.path.length] === 0x2f && next.subarray(0, top.path.length).equals(top.path);
      if (inside) return;
      this.pending.pop();
      await this.finishDir(top);
    }
  }

  private async finishDir(d: PendingDir): Promise<void> {
    const fh = await open(d.abs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    try {
      if (asRoot) {
        const uid = localUid(d.meta.uname, d.meta.uid);
        const gid = localGid(d.meta.gname, d.meta.gid);
        if (uid !== undefined && gid !== undefined) await fh.chown(uid, gid);
      }
      await fh.chmod(d.meta.mode & 0o7777);
      await fh.utimes(Date.now() / 1000, seconds(d.meta.mtime));
    } finally {
      await fh.close();
    }
  }
}
