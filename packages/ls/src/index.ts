// @cairn/ls: the snapshots of a repository (no key needed), or the files in one (owner key).
import type { Storage } from "@cairn/storage";
import { LocalCache, filterSnapshots, listSnapshots, readConfig, type Snapshot, type SnapshotFilter } from "@cairn/repository";
import { verifyCommit } from "@cairn/trust";

export interface SnapshotRow {
  id: string;
  time: string;
  host: string;
  label: string;
  tags: string[];
  /** Bytes of file content the snapshot holds, when its COMMIT stats say. */
  size?: number;
  /** The writer's Ed25519 public key (hex) that signed it. */
  signer: string;
  partial?: unknown;
  unverified?: boolean;
  /** With a trust file that pins anyone: whether a pinned writer's signature on it verifies. */
  trusted?: boolean;
}

/**
 * `trusted`: the pinned writers. When it pins anyone, each row says whether one of them signed it
 * (a snapshot planted in the bucket shows as not trusted); a transport host without a trust file
 * lists without that column's flag.
 */
export async function listSnapshotRows(
  storage: Storage,
  filter: SnapshotFilter & { cache?: string | false; trusted?: ReadonlySet<string> } = {},
): Promise<SnapshotRow[]> {
  const config = await readConfig(storage);
  const snaps = await listSnapshots(storage, LocalCache.forRepository(config.id, filter.cache), {
    onDamaged: (id, err) => process.stderr.write(`cairn-ls: warning: ${err.message} (skipped)\n`),
  });
  const trusted = filter.trusted?.size ? filter.trusted : undefined;
  return filterSnapshots(snaps, filter).map((s) => ({ ...row(s), ...(trusted ? { trusted: signedByPinned(s, trusted) } : {}) }));
}

function signedByPinned(s: Snapshot, trusted: ReadonlySet<string>): boolean {
  try {
    verifyCommit(s.commit as unknown as Record<string, unknown>, trusted);
    return true;
  } catch {
    return false;
  }
}

function row(s: Snapshot): SnapshotRow {
  const size: unknown = s.commit.stats?.bytes; // docs/sealing.md, "COMMIT": stats.bytes
  return {
    id: s.id,
    time: s.commit.time,
    host: s.host,
    label: s.label,
    tags: s.tags,
    ...(typeof size === "number" ? { size } : {}),
    signer: s.writer,
    ...(s.commit.partial ? { partial: s.commit.partial } : {}),
    ...(s.commit.unverified ? { unverified: true } : {}),
  };
}

/** A human table, one snapshot per line, oldest first. */
export function formatRows(rows: SnapshotRow[]): string {
  const head = ["ID", "TIME", "HOST", "LABEL", "TAGS", "SIZE", "SIGNER"];
  const lines = rows.map((r) => [
    r.id.slice(0, 12),
    r.time.replace(/\.\d+Z$/, "Z"),
    r.host,
    r.label,
    r.tags.join(","),
    r.size !== undefined ? humanSize(r.size) : "-",
    `${r.signer.slice(0, 16)}${r.trusted === false ? " (NOT TRUSTED)" : ""}${r.partial ? " (partial)" : ""}${r.unverified ? " (unverified)" : ""}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  return [head, ...lines].map((l) => l.map((c, i) => (i === l.length - 1 ? c : c.padEnd(widths[i]))).join("  ")).join("\n") + "\n";
}

function humanSize(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let u = 0;
  let v = n;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}
