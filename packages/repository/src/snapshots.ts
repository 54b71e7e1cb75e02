// Snapshot objects (docs/repository.md, "Snapshots"): snapshots/<id> holds the COMMIT JSON as
// pushed, id = SHA-256 of those bytes. Written last: its presence is the commit.
import { createHash } from "node:crypto";
import { CairnError, type ErrorKind } from "@cairn/errors";
import type { Storage } from "@cairn/storage";
import type { LocalCache } from "./cache.js";
import { isHexId } from "./ids.js";
import { SNAPSHOTS_PREFIX, idFromKey, snapshotKey } from "./layout.js";
import { mapLimit } from "./limit.js";

export interface Snapshot {
  id: string;
  /** The COMMIT JSON, parsed. */
  commit: Record<string, any>;
  time: Date;
  host: string;
  label: string;
  tags: string[];
  writer: string;
  keyset: string;
  /** Hex ids of the manifest root and the refs root. */
  manifest: string;
  refs: string;
}

/** The bytes a COMMIT frame's JSON is stored as (so pull can re-emit it and push re-store it byte for byte). */
export function encodeCommit(commit: Record<string, unknown>): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(commit));
}

export function snapshotIdOf(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Checks that a COMMIT has what the repository relies on (manifest and refs roots, time). A stored
 * snapshot that lacks them is damaged (integrity); a stream's COMMIT that lacks them is a bad stream.
 */
export function checkCommit(commit: Record<string, any>, where: string, kind: ErrorKind = "integrity"): void {
  const bad = (why: string) => new CairnError(kind, `${where}: ${why}`);
  if (typeof commit.manifest !== "string" || !isHexId(commit.manifest)) throw bad("no manifest root id");
  if (typeof commit.refs !== "string" || !isHexId(commit.refs)) throw bad("no refs root id");
  if (typeof commit.time !== "string" || Number.isNaN(Date.parse(commit.time))) throw bad("no valid time");
}

export function parseSnapshot(bytes: Uint8Array, id: string): Snapshot {
  const where = `snapshot ${id}`;
  if (snapshotIdOf(bytes) !== id) throw new CairnError("integrity", `${where} is damaged: its bytes do not hash to its name`);
  let commit: any;
  try {
    commit = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new CairnError("integrity", `${where} is not valid JSON`);
  }
  if (commit === null || typeof commit !== "object" || Array.isArray(commit)) throw new CairnError("integrity", `${where} is not a JSON object`);
  checkCommit(commit, where);
  return {
    id,
    commit,
    time: new Date(commit.time),
    host: String(commit.host ?? ""),
    label: String(commit.label ?? ""),
    tags: Array.isArray(commit.tags) ? commit.tags.map(String) : [],
    writer: String(commit.writer ?? ""),
    keyset: String(commit.keyset ?? ""),
    manifest: commit.manifest,
    refs: commit.refs,
  };
}

/** Every snapshot in the repository, oldest first (damaged ones are reported through onDamaged and skipped). */
export async function listSnapshots(
  storage: Storage,
  cache: LocalCache,
  opts: { jobs?: number; onDamaged?: (id: string, err: CairnError) => void } = {},
): Promise<Snapshot[]> {
  const ids: string[] = [];
  for await (const o of storage.list(SNAPSHOTS_PREFIX)) {
    const id = idFromKey(o.key, SNAPSHOTS_PREFIX);
    if (id) ids.push(id);
  }
  const snaps = await mapLimit(ids, opts.jobs ?? 16, async (id) => {
    try {
      return await readSnapshot(storage, cache, id); // undefined: deleted meanwhile (forget)
    } catch (err) {
      if (err instanceof CairnError && err.kind === "integrity") {
        opts.onDamaged?.(id, err);
        return undefined;
      }
      throw err;
    }
  });
  return snaps.filter((s): s is Snapshot => s !== undefined).sort((a, b) => a.time.getTime() - b.time.getTime() || (a.id < b.id ? -1 : 1));
}

/**
 * One snapshot by its full id: a good copy in the local cache, else the store's (then cached).
 * Undefined when the store has none; a damaged one throws (integrity).
 */
export async function readSnapshot(storage: Storage, cache: LocalCache, id: string): Promise<Snapshot | undefined> {
  const key = snapshotKey(id);
  let bytes = await cache.read(key);
  let fromCache = true;
  if (!bytes || snapshotIdOf(bytes) !== id) {
    fromCache = false;
    try {
      bytes = await storage.get(key);
    } catch (err) {
      if (err instanceof CairnError && err.kind === "notFound") return undefined;
      throw err;
    }
  }
  const s = parseSnapshot(bytes, id);
  if (!fromCache) await cache.write(key, bytes);
  return s;
}

export interface SnapshotFilter {
  host?: string;
  label?: string;
  tags?: string[];
}

export function filterSnapshots(snaps: Snapshot[], f: SnapshotFilter): Snapshot[] {
  return snaps.filter(
    (s) => (f.host === undefined || s.host === f.host) && (f.label === undefined || s.label === f.label) && (f.tags ?? []).every((t) => s.tags.includes(t)),
  );
}

/**
 * Resolves a selector (docs/repository.md, "Selecting a snapshot"): a full id, a unique id prefix
 * (4+ hex digits), `latest`, or a date/time (the newest snapshot at or before it; a bare date
 * means the end of that day, UTC), among the snapshots that pass the filter.
 */
export function selectSnapshot(all: Snapshot[], selector: string, filter: SnapshotFilter = {}): Snapshot {
  const snaps = filterSnapshots(all, filter);
  const what = describeFilter(filter);
  if (selector === "latest") {
    const s = snaps[snaps.length - 1];
    if (!s) throw new CairnError("notFound", `no snapshot${what} in the repository`);
    return s;
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(selector)) {
    const limit = parseWhen(selector);
    let best: Snapshot | undefined;
    for (const s of snaps) if (s.time.getTime() <= limit.getTime()) best = s;
    if (!best) throw new CairnError("notFound", `no snapshot${what} at or before ${selector}`);
    return best;
  }
  if (/^[0-9a-f]{4,64}$/.test(selector)) {
    const hits = snaps.filter((s) => s.id.startsWith(selector));
    if (hits.length === 1) return hits[0];
    if (hits.length > 1) throw new CairnError("usage", `snapshot prefix ${selector} is ambiguous: ${hits.length} snapshots match`);
    throw new CairnError("notFound", `no snapshot${what} with id ${selector}`);
  }
  throw new CairnError("usage", `cannot read "${selector}" as a snapshot: give an id or unique prefix (4+ hex digits), latest, or a date like 2026-11-24 or 2026-11-24T18:00`);
}

function parseWhen(text: string): Date {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const withZone = /(Z|[+-]\d{2}:?\d{2})$/.test(text);
  const d = new Date(dateOnly ? `${text}T23:59:59.999Z` : withZone ? text : `${text}Z`);
  if (Number.isNaN(d.getTime())) throw new CairnError("usage", `cannot read "${text}" as a date/time`);
  return d;
}

function describeFilter(f: SnapshotFilter): string {
  const parts = [f.host !== undefined && `host ${f.host}`, f.label !== undefined && `label ${f.label}`, ...(f.tags ?? []).map((t) => `tag ${t}`)].filter(Boolean);
  return parts.length ? ` with ${parts.join(", ")}` : "";
}
