import { createHash } from "node:crypto";
import { constants, type BigIntStats } from "node:fs";
import { lstat, open, readdir, readlink, type FileHandle } from "node:fs/promises";
import { posix } from "node:path";
import { CairnError } from "@cairn/errors";
import { FrameType, encodeName, type EntryKind, type EntryMeta, type Frame } from "@cairn/protocol";
import { DATA_SIZE, emptyEnd } from "./content.js";
import { PathFilter } from "./glob.js";
import { groupName, userName } from "./owners.js";
import { endFrame, startFrame, type StartOptions } from "./start.js";

export interface WalkOptions extends StartOptions {
  /** gitignore-style patterns, matched against paths relative to each given path. */
  exclude?: string[];
  /** Do not descend into directories on another file system than their root. */
  oneFileSystem?: boolean;
  /** Where warnings go (a file that changed while read, one that could not be read). Default: stderr. */
  warn?: (message: string) => void;
}

const SLASH = Buffer.from("/");

function join(a: Buffer, b: Buffer): Buffer {
  return a.length === 0 ? b : Buffer.concat([a, SLASH, b]);
}

/**
 * The path a given root is stored under: relative, normalised, without leading "/" or "..",
 * as tar stores it ("/srv/data" → "srv/data"; "." → the root's contents at the top).
 */
export function storedRoot(given: string): string {
  const parts = posix.normalize(given).split("/").filter((c) => c !== "" && c !== ".");
  while (parts[0] === "..") parts.shift();
  return parts.join("/");
}

function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code === "ENOENT" ? "vanished before it could be read" : `cannot be read (${e.code ?? e.message})`;
}

/**
 * Paths → plain stream: START, then each root depth-first in byte order of names (so an
 * unchanged tree gives an identical stream), then END. Files that change while read or cannot
 * be read are warned about, marked partial, and counted in END.partial.
 */
export async function* snapshotPaths(paths: string[], opts: WalkOptions = {}): AsyncGenerator<Frame> {
  if (paths.length === 0) throw new CairnError("usage", "no paths to snapshot");
  const roots: { fs: Buffer; stored: Buffer; st: BigIntStats }[] = [];
  for (const p of paths) {
    try {
      roots.push({ fs: Buffer.from(p), stored: Buffer.from(storedRoot(p)), st: await lstat(p, { bigint: true }) });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") throw new CairnError("notFound", `${p}: no such file or directory`);
      throw new CairnError("io", `${p}: cannot be read (${code ?? (err as Error).message})`);
    }
  }
  // Two roots stored under the same name, or one inside the other, would give entries twice:
  // a stream no restore could take whole.
  for (let i = 0; i < roots.length; i++) {
    for (let j = 0; j < roots.length; j++) {
      const [a, b] = [roots[i].stored.toString("latin1"), roots[j].stored.toString("latin1")];
      if (i !== j && (a === b ? i < j : a === "" || b.startsWith(`${a}/`))) {
        throw new CairnError("usage", `${paths[j]} ${a === b ? "is stored under the same name as" : "lies inside"} ${paths[i]}: give only one of them`);
      }
    }
  }
  const warn = opts.warn ?? ((m: string) => process.stderr.write(`cairn-snapshot: ${m}\n`));
  const walker = new Walker(new PathFilter(opts.exclude ?? []), opts.oneFileSystem ?? false, warn);
  yield startFrame(opts, paths.join(" "), "paths");
  for (const root of roots) yield* walker.walk(root.fs, root.stored, "", root.st, root.st.dev);
  yield endFrame({ entries: walker.entries, partial: walker.partial, unverified: false });
}

class Walker {
  entries = 0;
  partial = 0;
  /** "dev:ino" → stored path of the first link, for files with more than one link. */
  private readonly links = new Map<string, { target: string; targetB64?: string }>();

  constructor(
    private readonly exclude: PathFilter,
    private readonly oneFileSystem: boolean,
    private readonly warn: (message: string) => void,
  ) {}

  private problem(stored: Buffer, what: string): string {
    this.partial++;
    this.warn(`${encodeName(stored).text || "."}: ${what}`);
    return what;
  }

  async *walk(fsPath: Buffer, stored: Buffer, rel: string, known: BigIntStats | undefined, rootDev: bigint): AsyncGenerator<Frame> {
    let st = known;
    if (!st) {
      try {
        st = await lstat(fsPath, { bigint: true });
      } catch (err) {
        this.problem(stored, errorText(err));
        return;
      }
    }
    if (rel !== "" && !this.exclude.empty && this.exclude.matches(rel, st.isDirectory())) return;

    if (st.isDirectory()) {
      yield* this.directory(fsPath, stored, rel, st, rootDev);
    } else if (st.isSymbolicLink()) {
      let target: Buffer;
      try {
        target = await readlink(fsPath, { encoding: "buffer" });
      } catch (err) {
        this.problem(stored, errorText(err));
        return;
      }
      const t = encodeName(target);
      yield this.entry("symlink", stored, st, { target: t.text, ...(t.b64 ? { targetB64: t.b64 } : {}) });
      yield emptyEnd();
    } else if (st.isFile()) {
      yield* this.file(fsPath, stored, st);
    } else {
      this.warn(`${encodeName(stored).text}: skipped (not a file, directory or link)`);
    }
  }

  private async *directory(fsPath: Buffer, stored: Buffer, rel: string, st: BigIntStats, rootDev: bigint): AsyncGenerator<Frame> {
    let names: Buffer[] = [];
    let partial: string | undefined;
    const descend = !this.oneFileSystem || st.dev === rootDev;
    if (descend) {
      try {
        names = (await readdir(fsPath, { encoding: "buffer" })).sort(Buffer.compare);
      } catch (err) {
        partial = this.problem(stored, `directory ${errorText(err)}`);
      }
    }
    if (stored.length > 0) {
      yield this.entry("dir", stored, st);
      yield emptyEnd(partial);
    }
    for (const name of names) {
      const childRel = rel === "" ? encodeName(name).text : `${rel}/${encodeName(name).text}`;
      yield* this.walk(join(fsPath, name), join(stored, name), childRel, undefined, rootDev);
    }
  }

  private async *file(fsPath: Buffer, stored: Buffer, lst: BigIntStats): AsyncGenerator<Frame> {
    let fh: FileHandle;
    let st: BigIntStats;
    try {
      // O_NONBLOCK: if a FIFO took the file's place since lstat, opening it must not hang.
      fh = await open(fsPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (err) {
      this.problem(stored, errorText(err));
      return;
    }
    try {
      st = await fh.stat({ bigint: true });
      if (st.ino !== lst.ino || !st.isFile()) {
        this.problem(stored, "was replaced while the snapshot ran");
        return;
      }
      const key = st.nlink > 1n ? `${st.dev}:${st.ino}` : undefined;
      const first = key !== undefined ? this.links.get(key) : undefined;
      if (first !== undefined) {
        yield this.entry("hardlink", stored, st, first);
        yield emptyEnd();
        return;
      }
      if (key !== undefined) {
        const name = encodeName(stored);
        this.links.set(key, name.b64 ? { target: name.text, targetB64: name.b64 } : { target: name.text });
      }
      yield this.entry("file", stored, st, { size: Number(st.size) });
      yield* this.content(fh, stored, st);
    } finally {
      await fh.close();
    }
  }

  private async *content(fh: FileHandle, stored: Buffer, st: BigIntStats): AsyncGenerator<Frame> {
    const hash = createHash("sha256");
    const size = Number(st.size);
    let done = 0;
    let failure: string | undefined;
    // One read ahead: the thread pool fills the next block while this one is hashed and sent.
    const readAt = (at: number) => {
      const buf = Buffer.allocUnsafeSlow(Math.min(DATA_SIZE, size - at));
      return fh.read(buf, 0, buf.length, at).then(({ bytesRead }) => buf.subarray(0, bytesRead));
    };
    let next: Promise<Buffer> | undefined = size > 0 ? readAt(0) : undefined;
    try {
      while (next) {
        const data = await next;
        next = undefined;
        if (data.length === 0) break;
        done += data.length;
        if (done < size) {
          next = readAt(done);
          // Awaited on the next turn; while this block is out, a failure must not count as unhandled.
          next.catch(() => undefined);
        }
        hash.update(data);
        // The block is this frame's alone: the writer frees it once written (Frame.dispose).
        yield { type: FrameType.DATA, data, dispose: true };
      }
      const after = await fh.stat({ bigint: true });
      if (done !== size || after.size !== st.size || after.mtimeNs !== st.mtimeNs || after.ctimeNs !== st.ctimeNs) {
        failure = "changed while it was read";
      }
    } catch (err) {
      failure = errorText(err);
    } finally {
      // Never close the file under a read still in flight (the consumer may have stopped early).
      await next?.catch(() => undefined);
    }
    const end: Record<string, unknown> = { size: done, sha256: hash.digest("hex") };
    if (failure) end.partial = this.problem(stored, failure);
    yield { type: FrameType.ENTRY_END, meta: end };
  }

  private entry(kind: EntryKind, stored: Buffer, st: BigIntStats, extra: Partial<EntryMeta> = {}): Frame {
    this.entries++;
    const name = encodeName(stored);
    const uid = Number(st.uid);
    const gid = Number(st.gid);
    const meta: EntryMeta = { kind, path: name.text, mode: Number(st.mode & 0o7777n), uid, gid, mtime: st.mtimeNs.toString(), ...extra };
    if (name.b64) meta.pathB64 = name.b64;
    const uname = userName(uid);
    const gname = groupName(gid);
    if (uname !== undefined) meta.uname = uname;
    if (gname !== undefined) meta.gname = gname;
    return { type: FrameType.ENTRY, meta };
  }
}
