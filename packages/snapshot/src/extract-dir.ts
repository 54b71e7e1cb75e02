import {
  chmodSync,
  chownSync,
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
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  write,
  type Stats,
} from "node:fs";
import { dirname, resolve } from "node:path";
import { CairnError, makeDirs, printable, toCairnError } from "@cairn/errors";
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
  /**
   * Do not restore owners, even as root, and drop setuid/setgid bits (GNU tar's
   * --no-same-owner, for streams from a source not trusted with root's files).
   */
  noSameOwner?: boolean;
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
  return printable(encodeName(raw).text);
}

/** Seconds for utimes, exact to the microsecond: libuv truncates to µs, so aim at the middle of one. */
function seconds(mtimeNs: string): string {
  // Whole microseconds, rounded down (also before 1970, where BigInt division rounds up).
  const ns = BigInt(mtimeNs);
  const us = ns >= 0n ? ns / 1000n : -((-ns + 999n) / 1000n);
  // As a string: Node reads a negative number as "now" (a file from before 1970 would get
  // today's date), but takes a numeric string as it is.
  return String((Number(us) + 0.5) / 1e6);
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
 *
 * Every path is resolved from an open directory, not from `dir`'s path (docs/snapshot.md,
 * "Directories are held open"): each component is opened with O_NOFOLLOW|O_DIRECTORY, and
 * everything below it is reached through /proc/self/fd/N, the kernel's handle on that very
 * directory. Someone who swaps a directory inside `dir` for a symlink while the restore runs
 * redirects nothing. Without /proc (not Linux), the paths are used, each component checked anew
 * for every entry.
 */
export async function extractToDir(frames: AsyncIterable<Frame>, dir: string, opts: ExtractOptions = {}): Promise<ExtractSummary> {
  // mkdir -p answers the first directory it made: none if DIR existed.
  let made: string | undefined;
  try {
    made = makeDirs(dir);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new CairnError("io", `cannot make the restore directory ${printable(dir)}: ${why}`, { cause: err });
  }
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

const PROC_FD = "/proc/self/fd/";
/**
 * Linux's O_PATH: a directory handle that needs only search permission, not read (a 0300
 * directory of a non-root user can be held). Its metadata is set through /proc/self/fd/N.
 */
const O_PATH = process.platform === "linux" ? 0o10000000 : 0;

/** An open directory inside the root: `fd` anchors every path below it. */
interface DirHandle {
  name: Buffer;
  fd: number;
  /** Its absolute path: used only where /proc/self/fd is not available, and in messages. */
  abs: Buffer;
  /** The fd belongs to a pending directory entry, which closes it (one fd per level, not two). */
  borrowed?: boolean;
}

interface PendingDir {
  path: Buffer;
  fd: number;
  abs: Buffer;
  meta: EntryMeta;
  /** A directory that was there before and no --overwrite: its owner, mode and times stay. */
  keep: boolean;
}

/** True when /proc/self/fd/N reaches the directory open on N (Linux with /proc mounted). */
function procReaches(fd: number, abs: Buffer): boolean {
  try {
    const viaProc = statSync(`${PROC_FD}${fd}`);
    const direct = statSync(abs);
    return viaProc.isDirectory() && viaProc.ino === direct.ino && viaProc.dev === direct.dev;
  } catch {
    return false;
  }
}

class DirWriter {
  private readonly include: PathFilter;
  private readonly warn: (message: string) => void;
  private readonly pending: PendingDir[] = [];
  /** The root, then the directories of the last entry's parent path, each open. */
  private readonly chain: DirHandle[];
  private readonly viaProc: boolean;
  /** How directories are opened: O_PATH where /proc/self/fd anchors paths, else for reading. */
  private readonly dirFlags: number;
  /** Directories this run made as missing parents (latin1 paths): their entries, if any come later, still set their metadata. */
  private readonly madeDirs = new Set<string>();
  /** The absolute path of each open directory fd, for messages. */
  private readonly fdPaths = new Map<number, Buffer>();
  private tmpCounter = 0;
  private restored = 0;

  constructor(root: Buffer, private readonly opts: ExtractOptions) {
    this.include = new PathFilter(opts.include ?? []);
    this.warn = opts.warn ?? ((m: string) => process.stderr.write(`cairn-snapshot: ${printable(m)}\n`));
    const fd = openSync(root, (O_PATH || O_RDONLY) | O_DIRECTORY);
    this.chain = [{ name: Buffer.alloc(0), fd, abs: root }];
    this.viaProc = procReaches(fd, root);
    if (!this.viaProc && O_PATH) {
      // No /proc: an O_PATH fd anchors nothing, and fchmod needs a real one.
      closeSync(fd);
      this.chain[0].fd = openSync(root, O_RDONLY | O_DIRECTORY);
    }
    this.dirFlags = (this.viaProc && O_PATH ? O_PATH : O_RDONLY) | O_DIRECTORY | O_NOFOLLOW;
    this.fdPaths.set(this.chain[0].fd, root);
  }

  async run(reader: EntryReader): Promise<ExtractSummary> {
    try {
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
          throw new CairnError(e.kind, `${shown(entry.path)}: ${this.realPaths(e.message)}`, { cause: err });
        }
        this.restored++;
      }
      this.leaveDirsUntil(undefined);
    } finally {
      // After a failure the directories still pending keep the mode they were made with.
      for (const d of this.pending.splice(0)) this.closeDir(d.fd);
      this.closeChain(0);
    }
    for (const w of reader.endWarnings()) this.warn(w);
    const end = reader.end ?? {};
    const partial = typeof end.partial === "number" ? end.partial : 0;
    return { restored: this.restored, partial, unverified: end.unverified === true };
  }

  /** The path of `name` inside the open directory `dir`. */
  private at(dir: DirHandle, name: Buffer): Buffer {
    return this.viaProc ? Buffer.concat([Buffer.from(`${PROC_FD}${dir.fd}/`), name]) : join(dir.abs, name);
  }

  private async restore(entry: Entry, reader: EntryReader): Promise<void> {
    const parts = components(entry.path);
    const name = parts[parts.length - 1];
    const parent = this.parentDir(parts.slice(0, -1), entry.path);
    const abs = this.at(parent, name);
    const existing = lstatOrUndefined(abs);
    const meta = entry.meta;

    if (meta.kind === "dir") {
      if (existing && !existing.isDirectory()) {
        if (!this.opts.overwrite) throw this.refuseOverwrite(entry.path);
        unlinkSync(abs);
      }
      // Made now, or made earlier in this run as the parent of an entry that came first
      // (`find -depth`, `tar --no-recursion d/f d`): the stream's metadata is set on it.
      const made = !existing || !existing.isDirectory() || this.madeDirs.delete(entry.path.toString("latin1"));
      if (!existing || !existing.isDirectory()) mkdirSync(abs, 0o700);
      const { fd } = this.openDir(parent, name, false, entry.path, () => shown(entry.path));
      this.pending.push({ path: entry.path, fd, abs: join(parent.abs, name), meta, keep: !made && !this.opts.overwrite });
      await reader.finish();
      return;
    }

    if (existing) {
      if (existing.isDirectory()) throw new CairnError("refused", `refusing to replace the directory ${shown(entry.path)} with a ${meta.kind}`);
      if (!this.opts.overwrite) throw this.refuseOverwrite(entry.path);
    }
    const tmp = this.freeTempName(parent);
    // Only what this run created is removed on failure: a file already there under that name stays.
    let created = false;
    trackTemp(tmp);
    try {
      if (meta.kind === "file") {
        await this.writeFile(tmp, meta, reader, () => (created = true));
      } else if (meta.kind === "symlink") {
        symlinkSync(entry.target!, tmp);
        created = true;
        if (asRoot && !this.opts.noSameOwner) this.chownLink(tmp, meta);
        lutimesSync(tmp, Date.now() / 1000, seconds(meta.mtime));
        await reader.finish();
      } else {
        if (!this.linkTo(entry.target!, tmp)) {
          // Restoring some paths (--include, restore PATH…): the file it shares its content with
          // was left out, and a hard link carries no content of its own.
          this.warn(`${shown(entry.path)}: not restored: a hard link to ${shown(entry.target!)}, which the paths asked for leave out`);
          await reader.finish();
          return;
        }
        created = true;
        await reader.finish();
      }
      if (!this.opts.overwrite && lstatOrUndefined(abs)) throw this.refuseOverwrite(entry.path);
      renameSync(tmp, abs);
      // A hard link to itself (GNU tar writes a repeated member so): rename between two names of
      // one file does nothing, and the temporary name would stay.
      if (meta.kind === "hardlink" && lstatOrUndefined(tmp)) unlinkSync(tmp);
    } catch (err) {
      if (created) {
        try {
          unlinkSync(tmp);
        } catch {
          // already gone
        }
      }
      throw err;
    } finally {
      untrackTemp(tmp);
    }
  }

  /**
   * The next temporary name in `parent` that nothing holds. A run killed with SIGKILL leaves its
   * file behind, and a rerun in a container has the same PID and reaches the same counter at the
   * same entry: that name is skipped, never reused or removed (O_EXCL still guards the creation).
   */
  private freeTempName(parent: DirHandle): Buffer {
    for (;;) {
      const tmp = this.at(parent, Buffer.from(`.cairn-${process.pid}-${++this.tmpCounter}.tmp`));
      if (!lstatOrUndefined(tmp)) return tmp;
    }
  }

  /**
   * A hard link at `tmp` to the entry `target`, which must be a file (or link) inside the root.
   * False, when only some paths are restored, if the target is not there (left out by them).
   */
  private linkTo(target: Buffer, tmp: Buffer): boolean {
    const tparts = components(target);
    // Walked apart from the chain: the entry's own parent must stay open.
    const dirs: DirHandle[] = [this.chain[0]];
    try {
      for (let i = 0; i < tparts.length - 1; i++) {
        const { fd } = this.openDir(dirs[i], tparts[i], false, target, () => shownPrefix(tparts, i));
        dirs.push({ name: tparts[i], fd, abs: join(dirs[i].abs, tparts[i]) });
      }
      const tabs = this.at(dirs[dirs.length - 1], tparts[tparts.length - 1]);
      const tst = lstatOrUndefined(tabs);
      if (!tst && !this.include.empty) return false;
      if (!tst) throw new CairnError("notFound", `hard link target ${shown(target)} was not restored`);
      if (tst.isDirectory()) throw new CairnError("refused", `hard link target ${shown(target)} is a directory`);
      linkSync(tabs, tmp);
      return true;
    } catch (err) {
      // A directory on the way to the target that the paths asked for left out.
      if (err instanceof CairnError && err.kind === "notFound" && !this.include.empty) return false;
      throw err;
    } finally {
      for (const d of dirs.slice(1)) this.closeDir(d.fd);
    }
  }

  private refuseOverwrite(path: Buffer): CairnError {
    return new CairnError("refused", `refusing to overwrite existing ${shown(path)} (use --overwrite)`);
  }

  private async writeFile(tmp: Buffer, meta: EntryMeta, reader: EntryReader, onCreated: () => void): Promise<void> {
    const fd = openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    onCreated();
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

  /** Owner (as root), mode and mtime of an open file. */
  private setMeta(fd: number, meta: EntryMeta): void {
    this.applyMeta(meta, { chown: (u, g) => fchownSync(fd, u, g), chmod: (m) => fchmodSync(fd, m), utimes: (t) => futimesSync(fd, Date.now() / 1000, t) });
  }

  /** The same for a directory held open: an O_PATH fd takes them through /proc/self/fd/N, which is that directory. */
  private setDirMeta(fd: number, meta: EntryMeta): void {
    if (!(this.viaProc && O_PATH)) return this.setMeta(fd, meta);
    const self = `${PROC_FD}${fd}`;
    this.applyMeta(meta, { chown: (u, g) => chownSync(self, u, g), chmod: (m) => chmodSync(self, m), utimes: (t) => utimesSync(self, Date.now() / 1000, t) });
  }

  /** Owner (as root, unless --no-same-owner), then mode (setuid/setgid only with the owner), then mtime. */
  private applyMeta(meta: EntryMeta, ops: { chown(uid: number, gid: number): void; chmod(mode: number): void; utimes(mtime: string): void }): void {
    const sameOwner = !this.opts.noSameOwner;
    if (asRoot && sameOwner) {
      const uid = localUid(meta.uname, meta.uid);
      const gid = localGid(meta.gname, meta.gid);
      if (uid !== undefined && gid !== undefined) ops.chown(uid, gid);
    }
    ops.chmod(meta.mode & (sameOwner ? 0o7777 : 0o1777));
    ops.utimes(seconds(meta.mtime));
  }

  private chownLink(p: Buffer, meta: EntryMeta): void {
    const uid = localUid(meta.uname, meta.uid);
    const gid = localGid(meta.gname, meta.gid);
    if (uid !== undefined && gid !== undefined) lchownSync(p, uid, gid);
  }

  /**
   * Opens `name` inside `dir` as a directory, never through a symlink (refused, exit 18); a
   * missing one is created (0755) when `create`.
   */
  private openDir(dir: DirHandle, name: Buffer, create: boolean, forPath: Buffer, what: () => string): { fd: number; made: boolean } {
    const p = this.at(dir, name);
    for (let made = false; ; ) {
      try {
        const fd = openSync(p, this.dirFlags);
        this.fdPaths.set(fd, join(dir.abs, name));
        return { fd, made };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT" && create && !made) {
          mkdirSync(p, 0o755);
          made = true;
          continue;
        }
        if (code === "ENOENT") throw new CairnError("notFound", `${shown(forPath)}: directory ${what()} does not exist`);
        // O_DIRECTORY|O_NOFOLLOW on a symlink fails with ENOTDIR on Linux, ELOOP elsewhere.
        const link = code === "ELOOP" || (code === "ENOTDIR" && lstatOrUndefined(p)?.isSymbolicLink());
        if (link) throw new CairnError("refused", `refusing to write ${shown(forPath)}: ${what()} is a symlink, and cairn never writes through one`);
        if (code === "ENOTDIR") throw new CairnError("refused", `refusing to write ${shown(forPath)}: ${what()} is not a directory`);
        throw err;
      }
    }
  }

  /**
   * The open directory `parts` (inside the root), each component a real directory, missing ones
   * created. The chain of the last call is reused as far as it matches (with /proc only: without
   * it, every entry checks its whole path again).
   */
  private parentDir(parts: Buffer[], forPath: Buffer): DirHandle {
    let same = 0;
    if (this.viaProc) while (same < parts.length && same + 1 < this.chain.length && this.chain[same + 1].name.equals(parts[same])) same++;
    this.closeChain(same + 1);
    for (let i = same; i < parts.length; i++) {
      const dir = this.chain[i];
      const path = Buffer.concat(parts.slice(0, i + 1).flatMap((p, j) => (j ? [SLASH, p] : [p])));
      // A directory entry still pending holds this directory open already.
      const held = this.pending.find((d) => d.path.equals(path));
      if (held) {
        this.chain.push({ name: parts[i], fd: held.fd, abs: held.abs, borrowed: true });
        continue;
      }
      const { fd, made } = this.openDir(dir, parts[i], true, forPath, () => shownPrefix(parts, i));
      if (made) this.madeDirs.add(path.toString("latin1"));
      this.chain.push({ name: parts[i], fd, abs: join(dir.abs, parts[i]) });
    }
    return this.chain[parts.length];
  }

  /** Closes the chain's directories from position `keep` on (a borrowed fd is its pending entry's to close). */
  private closeChain(keep: number): void {
    while (this.chain.length > keep) {
      const d = this.chain.pop()!;
      if (!d.borrowed) this.closeDir(d.fd);
    }
  }

  private closeDir(fd: number): void {
    this.fdPaths.delete(fd);
    closeSync(fd);
  }

  /** A system error's message with the /proc/self/fd/N/ paths it names turned back into real ones. */
  private realPaths(message: string): string {
    return message.replace(/\/proc\/self\/fd\/(\d+)(\/?)/g, (whole, fd: string, slash: string) => {
      const abs = this.fdPaths.get(Number(fd));
      return abs ? `${printable(abs.toString())}${slash}` : whole;
    });
  }

  /** Sets the metadata of directories whose contents are complete: those `next` is not inside. */
  private leaveDirsUntil(next: Buffer | undefined): void {
    while (this.pending.length > 0) {
      const top = this.pending[this.pending.length - 1];
      const inside = next !== undefined && next.length > top.path.length && next[top.path.length] === 0x2f && next.subarray(0, top.path.length).equals(top.path);
      if (inside) return;
      this.pending.pop();
      // The chain may hold its fd (borrowed) and what lies below it: dropped first.
      const at = this.chain.findIndex((d) => d.borrowed && d.fd === top.fd);
      if (at >= 0) this.closeChain(at);
      try {
        if (!top.keep) this.setDirMeta(top.fd, top.meta);
      } catch (err) {
        const e = toCairnError(err);
        throw new CairnError(e.kind, `${shown(top.path)}: ${this.realPaths(e.message)}`, { cause: err });
      } finally {
        this.closeDir(top.fd);
      }
    }
  }
}

/** The first i + 1 components, for a message. */
function shownPrefix(parts: Buffer[], i: number): string {
  return shown(Buffer.concat(parts.slice(0, i + 1).flatMap((p, j) => (j ? [SLASH, p] : [p]))));
}
