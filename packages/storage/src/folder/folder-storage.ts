import { createReadStream } from "node:fs";
import { lstat, open, readdir, stat, unlink, type FileHandle } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { CairnError } from "@cairn/errors";
import { checkKey, rangeEnd, TEMP_PREFIX } from "../key.js";
import type { ObjectInfo, PutOptions, PutResult, Storage } from "../storage.js";
import { folderError } from "./errors.js";
import { ensureDir, ensureDirBelow, writeFileAtomic } from "./files.js";

/**
 * A repository in a local folder: one file per object, keys as relative paths. Puts are atomic
 * (temporary file, fsync, rename) and create-only-if-absent is a link(), so it is race-free.
 * Object Lock options are ignored: lockInfo() says the store has none.
 */
export class FolderStorage implements Storage {
  readonly atomicCreate = true;

  readonly root: string;

  constructor(
    root: string,
    readonly url: string,
  ) {
    // Normalised (no "//", no trailing "/"): writes compare their directories with it.
    this.root = resolve(root);
  }

  private path(key: string): string {
    checkKey(key);
    return join(this.root, key);
  }

  async create(): Promise<void> {
    try {
      await ensureDir(this.root);
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new CairnError("io", `cannot make the repository folder ${this.root} for ${this.url}: ${why}`, { cause: err });
    }
  }

  async put(key: string, body: Uint8Array | AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<PutResult> {
    const path = this.path(key);
    try {
      await ensureDirBelow(dirname(path), this.root, this.url);
      return { created: await writeFileAtomic(path, body, opts.ifNoneMatch === true) };
    } catch (err) {
      throw folderError(err, "writing", key, this.url);
    }
  }

  async get(key: string, range?: { offset: number; length: number }): Promise<Uint8Array> {
    const path = this.path(key);
    let fh: FileHandle | undefined;
    try {
      fh = await open(path, "r");
      const size = (await fh.stat()).size;
      const start = range ? Math.min(range.offset, size) : 0;
      const end = range ? Math.min(rangeEnd(range), size) : size;
      const out = Buffer.allocUnsafe(end - start);
      let done = 0;
      while (done < out.length) {
        const { bytesRead } = await fh.read(out, done, out.length - done, start + done);
        if (bytesRead === 0) break; // shrank under us: return what exists
        done += bytesRead;
      }
      return done === out.length ? out : out.subarray(0, done);
    } catch (err) {
      throw folderError(err, "reading", key, this.url);
    } finally {
      await fh?.close();
    }
  }

  async *getStream(key: string, range?: { offset: number; length: number }): AsyncIterable<Uint8Array> {
    const path = this.path(key);
    if (range && rangeEnd(range) === range.offset) {
      // an empty range: createReadStream cannot express it, but a missing object is still an error
      if (!(await this.head(key))) throw new CairnError("notFound", `object ${key} not found in ${this.url}`);
      return;
    }
    const stream = createReadStream(path, {
      start: range?.offset,
      end: range ? rangeEnd(range) - 1 : undefined,
      highWaterMark: 1 << 20,
    });
    try {
      for await (const chunk of stream) yield chunk as Buffer;
    } catch (err) {
      throw folderError(err, "reading", key, this.url);
    } finally {
      stream.destroy();
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const path = this.path(key);
    try {
      const st = await stat(path);
      return st.isFile() ? { key, size: st.size, mtime: st.mtime } : undefined;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return undefined;
      throw folderError(err, "reading", key, this.url);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const slash = prefix.lastIndexOf("/");
    const dirKey = slash === -1 ? "" : prefix.slice(0, slash);
    if (dirKey !== "") checkKey(dirKey);
    yield* this.walk(dirKey, prefix);
  }

  /** Files under dirKey whose key starts with prefix, in S3 key order (UTF-8 bytes of the whole key). */
  private async *walk(dirKey: string, prefix: string): AsyncIterable<ObjectInfo> {
    let entries;
    try {
      entries = await readdir(join(this.root, dirKey), { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return;
      throw folderError(err, "listing", dirKey || "/", this.url);
    }
    const items = entries
      .filter((e) => (e.isFile() || e.isDirectory()) && !e.name.startsWith(TEMP_PREFIX))
      .map((e) => {
        const key = dirKey ? `${dirKey}/${e.name}` : e.name;
        // a directory's keys all start with "name/": that is where they sort among its siblings
        const sortKey = e.isDirectory() ? `${key}/` : key;
        return { key, sortKey, bytes: Buffer.from(sortKey), dir: e.isDirectory() };
      })
      .sort((a, b) => Buffer.compare(a.bytes, b.bytes));
    for (const item of items) {
      if (item.dir) {
        if (item.sortKey.startsWith(prefix) || prefix.startsWith(item.sortKey)) yield* this.walk(item.key, prefix);
      } else if (item.key.startsWith(prefix)) {
        try {
          const st = await lstat(join(this.root, item.key));
          yield { key: item.key, size: st.size, mtime: st.mtime };
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw folderError(err, "listing", item.key, this.url);
        }
      }
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.path(key);
    try {
      await unlink(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw folderError(err, "deleting", key, this.url);
    }
  }

  async deleteMany(keys: Iterable<string> | AsyncIterable<string>): Promise<void> {
    const running = new Set<Promise<void>>();
    for await (const key of keys) {
      const p: Promise<void> = this.delete(key).finally(() => running.delete(p));
      running.add(p);
      if (running.size >= 16) await Promise.race(running);
    }
    await Promise.all(running);
  }

  /** The folder's analogue of abandoned multipart uploads: temporary files left by killed writers. */
  async abortStaleMultipartUploads(olderThan: Date): Promise<number> {
    let removed = 0;
    const visit = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
        throw folderError(err, "listing", dir, this.url);
      }
      for (const e of entries) {
        const path = join(dir, e.name);
        if (e.isDirectory()) await visit(path);
        else if (e.isFile() && e.name.startsWith(TEMP_PREFIX)) {
          const st = await lstat(path).catch(() => undefined);
          if (st && st.mtime < olderThan) {
            await unlink(path).catch(() => {});
            removed++;
          }
        }
      }
    };
    await visit(this.root);
    return removed;
  }

  /** A folder has neither versioning nor Object Lock. */
  async lockInfo(): Promise<undefined> {
    return undefined;
  }
}
