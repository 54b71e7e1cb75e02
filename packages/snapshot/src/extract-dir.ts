import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  rmdirSync,
  openSync,
  realpathSync,
  renameSync,
  symlinkSync,
  unlinkSync,
  write,
  type Stats,
} from "node:fs";
import { dirname, resolve } from "node:path";
import { CairnError, toCairnError } from "@cairn/errors";
import { encodeName, freeData, type EntryMeta, type Frame } from "@cairn/protocol";
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

function writeAt(fd: number, chunk: Uint8Array, off: number): Promise<number> {
  return new Promise((resolve, reject) => write(fd, chunk, off, chunk.length - off, null, (err, n) => (err ? reject(err) : resolve(n))));
}

async function writeFully(fd: number, chunk: Uint8Array): Promise<void> {
  for (let off = 0; off < chunk.length; ) off += await writeAt(fd, chunk, off);
}

function lstatOrUndefined(p: Buffer): Stats | undefined {
  return lstatSync(p, { throwIfNoEntry: false });
}

/**
 * File data is written asynchronously, one write in flight while the next block is decoded and
 * hashed; the other file-system calls are synchronous: each asynchronous one would cost a round
 * trip through libuv's thread pool (a restore of many small files made ~10 per file, more CPU
 * than the calls themselves). So when it asks for a frame, it may still be writing the data of
 * the one before, but of no earlier frame, and it keeps no frame's data: decodeFrames' borrow
 * "allButLast" holds.
 *
 * Plain stream → files under `dir`, metadata restored (owner only as root). Never writes outside
 * `dir`: unsafe paths are refused, no symlink is followed while writing, each file goes to a
 * temporary name in its directory and is renamed into place only once its SHA-256 checks.
 * Directory modes and times are set after their contents. If the stream breaks off, what was
 * complete stays and the file in progress never appears under its name.
 */
export async function extractToDir(frames: AsyncIterable<Frame>, dir: string, opts: ExtractOptions = {}): Promise<ExtractSummary> {
  // mkdir -p answers the first directory it made: none if DIR existed.
  const made = mkdirSync(dir, { recursive: true });
  const root = Buffer.from(realpathSync(dir));
  try {
    return await new DirWriter(root, opts).run(new EntryReader(frames));
  } catch (err) {
    // A restore that fails before writing anything (a wrong key, an unreachable store) leaves
    // no empty directory behind that looks like a restore; one that holds anything stays.
    if (made !== undefined) {
      // DIR, then each parent mkdir -p made for it, as long as they are empty.
      const first = resolve(made);
      try {
        for (let d = resolve(dir); ; d = dirname(d)) {
          rmdirSync(d);
          if (d === first || dirname(d) === d) break;
        }
      } catch {
        // not empty: what was restored stays for the user to see
      }
    }
    throw err;
  }
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
      this.leaveDirsUntil(entry.path);
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
    this.leaveDirsUntil(undefined);
    for (const w of reader.endWarnings()) this.warn(w);
    const end = reader.end ?? {};
    const partial = typeof end.partial === "number" ? end.partial : 0;
    return { restored: this.restored, partial, unverified: end.unverified === true };
  }

  private async restore(entry: Entry, reader: EntryReader): Promise<void> {
    const parts = components(entry.path);
    const parent = this.parentDir(parts.slice(0, -1), true, entry.path);
    const abs = join(parent, parts[parts.length - 1]);
    const existing = lstatOrUndefined(abs);
    const meta = entry.meta;

    if (meta.kind === "dir") {
      if (existing && !existing.isDirectory()) {
        if (!this.opts.overwrite) throw this.refuseOverwrite(entry.path);
        unlinkSync(abs);
      }
      if (!existing || !existing.isDirectory()) mkdirSync(abs, 0o700);
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
        symlinkSync(entry.target!, tmp);
        if (asRoot) this.chownLink(tmp, meta);
        lutimesSync(tmp, Date.now() / 1000, seconds(meta.mtime));
        await reader.finish();
      } else {
        this.checkedParent = undefined;
        const tparts = components(entry.target!);
        const tdir = this.parentDir(tparts.slice(0, -1), false, entry.target!);
        const tabs = join(tdir, tparts[tparts.length - 1]);
        const tst = lstatOrUndefined(tabs);
        if (!tst) throw new CairnError("notFound", `hard link target ${shown(entry.target!)} was not restored`);
        if (tst.isDirectory()) throw new CairnError("refused", `hard link target ${shown(entry.target!)} is a directory`);
        linkSync(tabs, tmp);
        await reader.finish();
      }
      if (!this.opts.overwrite && lstatOrUndefined(abs)) throw this.refuseOverwrite(entry.path);
      renameSync(tmp, abs);
    } catch (err) {
      try {
        unlinkSync(tmp);
      } catch {
        // never created, or already gone
      }
      throw err;
    } finally {
      untrackTemp(tmp);
    }
  }

  private refuseOverwrite(path: Buffer): CairnError {
    return new CairnError("refused", `refusing to overwrite existing ${shown(path)} (use --overwrite)`);
  }

  private async writeFile(tmp: Buffer, meta: EntryMeta, reader: EntryReader): Promise<void> {
    const fd = openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    // One write in flight: the thread pool writes a block while the next is decoded and hashed.
    let writing: Promise<void> | undefined;
    let written: Frame | undefined;
    // Once its write is done, a frame's memory is freed if it was handed over (Frame.dispose), or
    // given back to the stage that lent it (Frame.written).
    const done = () => {
      if (written?.dispose) freeData(written.data!);
      written?.written?.();
    };
    try {
      for await (const frame of reader.contentFrames()) {
        await writing;
        done();
        writing = writeFully(fd, frame.data!);
        written = frame;
        // Awaited before the next write; until then a failure must not count as unhandled.
        writing.catch(() => undefined);
      }
      await writing;
      done();
      writing = undefined;
      const end = await reader.finish();
      if (end?.partial) this.warn(`${meta.path}: restored as read; the snapshot marks it partial (${end.partial})`);
      this.setMeta(fd, meta);
    } finally {
      await writing?.catch(() => undefined);
      closeSync(fd);
    }
  }

  /** Owner (as root), mode and mtime of an open file or directory. */
  private setMeta(fd: number, meta: EntryMeta): void {
    if (asRoot) {
      const uid = localUid(meta.uname, meta.uid);
      const gid = localGid(meta.gname, meta.gid);
      if (uid !== undefined && gid !== undefined) fchownSync(fd, uid, gid);
    }
    fchmodSync(fd, meta.mode & 0o7777);
    futimesSync(fd, Date.now() / 1000, seconds(meta.mtime));
  }

  private chownLink(p: Buffer, meta: EntryMeta): void {
    const uid = localUid(meta.uname, meta.uid);
    const gid = localGid(meta.gname, meta.gid);
    if (uid !== undefined && gid !== undefined) lchownSync(p, uid, gid);
  }

  /**
   * The absolute path of a directory inside the root, checking that every component is a real
   * directory (a symlink is refused, never followed). Missing ones are created when `create`.
   */
  private parentDir(parts: Buffer[], create: boolean, forPath: Buffer): Buffer {
    let abs = this.root;
    for (const p of parts) abs = join(abs, p);
    const key = parts.map((p) => p.toString("latin1")).join("/");
    if (create && key === this.checkedParent) return abs;
    abs = this.root;
    for (let i = 0; i < parts.length; i++) {
      abs = join(abs, parts[i]);
      const st = lstatOrUndefined(abs);
      const prefix = () => shown(Buffer.concat(parts.slice(0, i + 1).flatMap((p, j) => (j ? [SLASH, p] : [p]))));
      if (!st) {
        if (!create) throw new CairnError("notFound", `${shown(forPath)}: directory ${prefix()} does not exist`);
        mkdirSync(abs, 0o755);
        continue;
      }
      if (st.isSymbolicLink()) throw new CairnError("refused", `refusing to write ${shown(forPath)}: ${prefix()} is a symlink, and cairn never writes through one`);
      if (!st.isDirectory()) throw new CairnError("refused", `refusing to write ${shown(forPath)}: ${prefix()} is not a directory`);
    }
    if (create) this.checkedParent = key;
    return abs;
  }

  /** Sets the metadata of directories whose contents are complete: those `next` is not inside. */
  private leaveDirsUntil(next: Buffer | undefined): void {
    while (this.pending.length > 0) {
      const top = this.pending[this.pending.length - 1];
      const inside = next !== undefined && next.length > top.path.length && next[top.path.length] === 0x2f && next.subarray(0, top.path.length).equals(top.path);
      if (inside) return;
      this.pending.pop();
      this.finishDir(top);
    }
  }

  private finishDir(d: PendingDir): void {
    const fd = openSync(d.abs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    try {
      this.setMeta(fd, d.meta);
    } finally {
      closeSync(fd);
    }
  }
}
