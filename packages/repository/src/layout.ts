// Where each object lives in a repository (docs/repository.md, "Layout"). Every key is
// relative to the repository's root: the folder, or the bucket prefix.

export const CONFIG_KEY = "config";
export const KEYS_PREFIX = "keys/";
export const PACKS_PREFIX = "packs/";
export const INDEX_PREFIX = "index/";
export const SNAPSHOTS_PREFIX = "snapshots/";
/** Deletion marks written by prune before it deletes a pack (docs/repository.md, "Garbage collection"). */
export const MARKS_PREFIX = "marks/";

export function packKey(packIdHex: string): string {
  return `${PACKS_PREFIX}${packIdHex.slice(0, 2)}/${packIdHex}`;
}

export function indexKey(indexIdHex: string): string {
  return `${INDEX_PREFIX}${indexIdHex}`;
}

export function snapshotKey(snapshotIdHex: string): string {
  return `${SNAPSHOTS_PREFIX}${snapshotIdHex}`;
}

export function keyObjectKey(keyIdHex: string): string {
  return `${KEYS_PREFIX}${keyIdHex}`;
}

export function markKey(packIdHex: string): string {
  return `${MARKS_PREFIX}${packIdHex}`;
}

/** The 64-hex id at the end of a key under prefix, or undefined for anything else found there. */
export function idFromKey(key: string, prefix: string): string | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const last = key.slice(key.lastIndexOf("/") + 1);
  if (!/^[0-9a-f]{64}$/.test(last)) return undefined;
  if (prefix === PACKS_PREFIX && key !== packKey(last)) return undefined;
  return last;
}
