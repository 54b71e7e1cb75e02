// `cairn ls -i OWNER_KEY REPO SNAPSHOT [PATH]`: the files of a snapshot, like `ls -l`, read from
// its encrypted manifest (so it needs the owner key). Loaded only when -i is given.
import { writeAll } from "@cairn/protocol";
import type { Storage } from "@cairn/storage";
import { readPassphraseFile, readTrustedWriters } from "@cairn/keys";
import { RecordTag, bindHeader, checkHeader, readOwnerSecrets, verifyCommit } from "@cairn/seal";
import { openSnapshot } from "@cairn/pull";
import { readManifest } from "@cairn/pull/manifest";
import type { SnapshotFilter } from "@cairn/repository";

export interface FileRow {
  path: string;
  kind: string;
  mode: number;
  size?: number;
  mtime: string;
  uname?: string;
  gname?: string;
  uid?: number;
  gid?: number;
  target?: string;
  partial?: string;
}

export interface ListFilesOptions extends SnapshotFilter {
  identity: string;
  path?: string;
  json: boolean;
  cache?: string | false;
  passphraseFile?: string;
  /** The trusted writers file: `latest` or a date picks among the snapshots they signed. */
  writers?: string;
  /** For an owner key that carries no id key: the repository's key file (and whether to trust it unpinned). */
  repoKey?: string;
  trustRepoKey?: boolean;
}

/** The snapshot's entries in manifest order, each with its size once its ENTRY_END is read. */
export async function* fileRows(storage: Storage, selector: string, opts: ListFilesOptions): AsyncGenerator<FileRow> {
  const warn = (m: string) => process.stderr.write(`cairn-ls: warning: ${m}\n`);
  const trusted = readTrustedWriters(opts.writers);
  const opened = await openSnapshot(storage, selector, { ...opts, trusted, warn });
  // As restore: a snapshot named by id is listed only if a pinned writer signed it, and its
  // manifest only if each chunk is authentic under an id key the owner trusts and its header
  // names this COMMIT (a planted or swapped manifest would list files that are not there).
  const commit = verifyCommit(opened.snapshot.commit as Record<string, unknown>, trusted) as unknown as Record<string, unknown>;
  const owner = await readOwnerSecrets([opts.identity], { passphrase: readPassphraseFile(opts.passphraseFile), repoKey: opts.repoKey, trustRepoKey: opts.trustRepoKey });
  const prefix = opts.path?.replace(/^\.\//, "").replace(/\/+$/, "");
  const wanted = (p: string) => !prefix || p === prefix || p.startsWith(`${prefix}/`);
  let pending: FileRow | undefined;
  for await (const piece of readManifest(storage, opened.table, opened.snapshot.manifest, { identities: owner.identities, idKey: owner.idKey })) {
    for (const r of piece.records) {
      if (r.tag === RecordTag.HEADER) bindHeader(checkHeader(r.meta, "manifest"), commit);
      else if (r.tag === RecordTag.ENTRY) {
        if (pending && wanted(pending.path)) yield pending;
        const m = r.meta;
        pending = {
          path: String(m.path),
          kind: String(m.kind),
          mode: Number(m.mode ?? 0),
          mtime: String(m.mtime ?? "0"),
          ...(m.uname !== undefined ? { uname: m.uname } : {}),
          ...(m.gname !== undefined ? { gname: m.gname } : {}),
          ...(m.uid !== undefined ? { uid: m.uid } : {}),
          ...(m.gid !== undefined ? { gid: m.gid } : {}),
          ...(m.target !== undefined ? { target: m.target } : {}),
        };
      } else if (r.tag === RecordTag.ENTRY_END && pending) {
        pending.size = Number(r.meta.size);
        if (r.meta.partial) pending.partial = String(r.meta.partial);
        if (wanted(pending.path)) yield pending;
        pending = undefined;
      }
    }
  }
  if (pending && wanted(pending.path)) yield pending;
}

export async function listFiles(storage: Storage, selector: string, opts: ListFilesOptions): Promise<void> {
  async function* lines(): AsyncGenerator<Uint8Array> {
    for await (const row of fileRows(storage, selector, opts)) yield Buffer.from(`${opts.json ? JSON.stringify(row) : formatRow(row)}\n`);
  }
  await writeAll(lines());
}

const kindLetter: Record<string, string> = { dir: "d", symlink: "l", hardlink: "h", file: "-" };

export function formatRow(r: FileRow): string {
  const perms = [6, 3, 0].map((shift) => {
    const bits = (r.mode >> shift) & 7;
    return `${bits & 4 ? "r" : "-"}${bits & 2 ? "w" : "-"}${bits & 1 ? "x" : "-"}`;
  });
  const owner = r.uname ?? (r.uid !== undefined ? String(r.uid) : "-");
  const group = r.gname ?? (r.gid !== undefined ? String(r.gid) : "-");
  const ms = Number(BigInt(r.mtime) / 1_000_000n);
  const when = new Date(ms).toISOString().slice(0, 16).replace("T", " ");
  const size = r.size !== undefined ? String(r.size) : "-";
  const arrow = r.target !== undefined ? ` ${r.kind === "hardlink" ? "=>" : "->"} ${r.target}` : "";
  return `${kindLetter[r.kind] ?? "?"}${perms.join("")} ${owner.padEnd(8)} ${group.padEnd(8)} ${size.padStart(12)} ${when} ${r.path}${arrow}${r.partial ? "  (partial)" : ""}`;
}
