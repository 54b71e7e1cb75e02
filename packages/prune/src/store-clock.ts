// The store's own "now": grace periods are measured in the store's timestamps (docs/repository.md,
// "Garbage collection"), never the local clock. Prune writes an empty probe under marks/ (a key
// that is not a pack id, so every reader ignores it), reads its LastModified and removes it. A
// run killed between the PUT and the DELETE leaves its probe: a later run removes it a day on.
import { randomBytes } from "node:crypto";
import { CairnError } from "@cairn/errors";
import type { Storage } from "@cairn/storage";
import { MARKS_PREFIX } from "@cairn/repository";

const PROBE_PREFIX = `${MARKS_PREFIX}clock-`;

export async function storeNow(storage: Storage): Promise<Date> {
  const key = `${PROBE_PREFIX}${randomBytes(8).toString("hex")}`;
  const put = await storage.put(key, new Uint8Array(0));
  const info = await storage.head(key);
  // A listing may be more precise than HEAD (Ceph RGW: milliseconds against whole seconds), and
  // garbage collection compares listed times with this one: take the later of the two, so that
  // an object listed as written just before the probe never looks younger than "now".
  let listed: Date | undefined;
  for await (const o of storage.list(key)) if (o.key === key) listed = o.mtime;
  if (put.versionId && storage.deleteVersion) await storage.deleteVersion(key, put.versionId);
  else await storage.delete(key);
  if (!info) throw new CairnError("storage", `${storage.url} does not show an object just written (${key}): cannot read the store's clock`);
  return listed && listed > info.mtime ? listed : info.mtime;
}

/** A probe written before olderThan (of a marks/ listing): left by a run killed mid-probe (a live one lasts three requests). */
export function isStaleProbe(o: { key: string; mtime: Date }, olderThan: Date): boolean {
  return o.key.startsWith(PROBE_PREFIX) && o.mtime < olderThan;
}
