// The local cache of immutable, content-addressed repository objects (index files, snapshot
// objects), kept per repository id so a transport host fetches only what is new. Everything
// read from it is checked against its name again, so a damaged cache costs a refetch, not trust.
import { readFile, rename, unlink, writeFile } from "node:fs/promises";
import { makeDirs } from "@cairn/errors";
import { homedir } from "node:os";
import { join } from "node:path";

export class LocalCache {
  constructor(readonly dir: string | undefined) {}

  /** The default cache for a repository: $CAIRN_CACHE or $XDG_CACHE_HOME/cairn or ~/.cache/cairn, then the repo id. */
  static forRepository(repoId: string, base?: string | false): LocalCache {
    if (base === false) return new LocalCache(undefined);
    const root = base ?? process.env.CAIRN_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "cairn");
    return new LocalCache(join(root, repoId));
  }

  async read(key: string): Promise<Uint8Array | undefined> {
    if (!this.dir) return undefined;
    try {
      return new Uint8Array(await readFile(join(this.dir, key)));
    } catch {
      return undefined;
    }
  }

  /**
   * Best effort: a cache that cannot be written is only slower. True when the bytes were written;
   * a failed write leaves no temporary file behind (a full disk would collect them).
   */
  async write(key: string, bytes: Uint8Array): Promise<boolean> {
    if (!this.dir) return false;
    const path = join(this.dir, key);
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      makeDirs(join(path, ".."));
      await writeFile(tmp, bytes);
      await rename(tmp, path);
      return true;
    } catch {
      await unlink(tmp).catch(() => undefined);
      return false;
    }
  }
}
