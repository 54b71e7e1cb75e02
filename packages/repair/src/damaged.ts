// `cairn repair REPO` after damage (docs/verify.md, "Repair"): read every pack (as
// verify --read-data does), then
//   * a pack that is wholly damaged (missing, truncated, trailer damaged, or — without a key to
//     tell which object — bytes that do not hash to its name) is moved to damaged/<pack id>
//     (copied, then deleted from packs/, so no push re-indexes it from its trailer);
//   * with the owner key, a pack in which only some objects fail to open is repacked without
//     them (a new pack of the good objects), and the old one moved to damaged/;
//   * the index is rebuilt from the packs that remain (rebuild.ts).
// The dropped chunks are then absent: the next backup that meets them uploads them again, which
// heals every older snapshot that shares them. Snapshots whose objects nobody re-uploads stay
// damaged, and the report names them.
import { createHash } from "node:crypto";
import type { Storage } from "@cairn/storage";
import { CairnError } from "@cairn/errors";
import { PackBuilder, packKey, parseTrailer, readConfig, readPackTrailer, toHex } from "@cairn/repository";
import { Damage, Report, checkPacks, listPacks, loadVerifyIndex, verifyRepository, type ObjectOpener } from "@cairn/verify";
import { rebuildIndex, type RebuildResult } from "./rebuild.js";

export const DAMAGED_PREFIX = "damaged/";

export interface RepairOptions {
  trusted: Set<string>;
  identity?: string[];
  passphrase?: string;
  jobs?: number;
  /** Print what happens, one line each. */
  log?: (line: string) => void;
}

export interface RepairResult {
  moved: string[];
  repacked: { from: string; to: string; dropped: number }[];
  index: RebuildResult;
  /** After the repair: the verify report (keyless, without --read-data). */
  after: Report;
}

export async function repairDamage(storage: Storage, opts: RepairOptions): Promise<RepairResult> {
  const log = opts.log ?? (() => {});
  const jobs = opts.jobs ?? 4;
  await readConfig(storage);
  let open: ObjectOpener | undefined;
  if (opts.identity?.length) {
    const keyed = await import("@cairn/verify/keyed");
    open = keyed.objectOpener(await keyed.ownerAccess(opts.identity, opts.passphrase));
  }
  const found = new Report(storage.url);
  const index = await loadVerifyIndex(storage, found, jobs);
  const damage = new Damage();
  const stored = await listPacks(storage);
  try {
    await checkPacks(storage, index, stored, damage, found, { jobs, subset: { kind: "all" }, counter: 0, open });
  } finally {
    await open?.close?.();
  }
  const { table } = index;

  const moved: string[] = [];
  const wholly = new Set<string>();
  for (const p of damage.packs.keys()) wholly.add(table.packIdAt(p));
  for (const id of wholly) {
    if (!stored.has(id)) continue;
    if (!(await moveAside(storage, id))) {
      log(`left pack ${id} in place: it hashed to its name when read again (the damage was on the way, not at rest)`);
      continue;
    }
    moved.push(id);
    log(`moved damaged pack ${id} to ${DAMAGED_PREFIX}${id}`);
  }

  // Packs no index lists whose trailer cannot be read (a foreign file named like a pack, or one
  // cut short): no snapshot can name what they hold, and prune stops at them. They go aside too.
  for (const [id, size] of stored) {
    if (table.findPack(id) >= 0 || wholly.has(id)) continue;
    try {
      await readPackTrailer(storage, id, size);
      continue;
    } catch (err) {
      if (!(err instanceof CairnError) || !["integrity", "version"].includes(err.kind)) throw err;
      // A later format is left alone, unless the pack does not hash to its name (then it is damage).
      if (err.kind === "version") {
        const bytes = await storage.get(packKey(id));
        if (createHash("sha256").update(bytes).digest("hex") === id) throw err;
      }
    }
    if (!(await moveAside(storage, id))) continue;
    moved.push(id);
    log(`moved pack ${id}, which no index lists and whose trailer cannot be read, to ${DAMAGED_PREFIX}${id}`);
  }

  // Packs holding objects that failed to open: keep the good objects in a new pack.
  const bad = new Map<string, Set<string>>();
  for (const [objectId, pack] of damage.objectPacks) {
    if (wholly.has(pack)) continue;
    if (!bad.has(pack)) bad.set(pack, new Set());
    bad.get(pack)!.add(objectId);
  }
  const repacked: RepairResult["repacked"] = [];
  for (const [pack, drop] of bad) {
    const bytes = await storage.get(packKey(pack));
    const builder = new PackBuilder();
    for (const e of parseTrailer(bytes, bytes.length, pack)) {
      if (!drop.has(toHex(e.id))) builder.add(e.kind, e.id, bytes.subarray(e.offset, e.offset + e.length));
    }
    let to = "";
    if (builder.count > 0) {
      const fresh = builder.finish();
      await storage.put(packKey(fresh.id), fresh.bytes, { ifNoneMatch: true });
      to = fresh.id;
    }
    await moveAside(storage, pack, bytes);
    moved.push(pack);
    repacked.push({ from: pack, to, dropped: drop.size });
    log(`repacked pack ${pack} without its ${drop.size} damaged object${drop.size > 1 ? "s" : ""}${to ? ` as ${to}` : " (nothing left in it)"}`);
  }

  const rebuilt = await rebuildIndex(storage, { jobs });
  for (const s of rebuilt.skipped) log(`left pack ${s.pack} out of the index: ${s.why}`);
  log(`wrote ${rebuilt.written.length} index file${rebuilt.written.length === 1 ? "" : "s"} for ${rebuilt.packs} packs (${rebuilt.objects} objects), superseding ${rebuilt.superseded.length}`);
  const after = await verifyRepository(storage, { trusted: opts.trusted, jobs, cache: false });
  return { moved, repacked, index: rebuilt, after };
}

/**
 * Keeps a damaged pack's bytes under damaged/ (no tool reads them) and removes it from packs/.
 * Read here again when not given: a wholly damaged pack that now hashes to its name and has a
 * trailer is left in place (false), since one read can be damaged on the way.
 */
async function moveAside(storage: Storage, id: string, bytes?: Uint8Array): Promise<boolean> {
  let body = bytes;
  if (!body) {
    try {
      body = await storage.get(packKey(id));
    } catch {
      body = undefined; // unreadable: nothing worth keeping
    }
    if (body && createHash("sha256").update(body).digest("hex") === id && wellFormed(body, id)) return false;
  }
  if (body) await storage.put(`${DAMAGED_PREFIX}${id}`, body);
  await storage.delete(packKey(id));
  return true;
}

function wellFormed(bytes: Uint8Array, id: string): boolean {
  try {
    parseTrailer(bytes, bytes.length, id);
    return true;
  } catch {
    return false;
  }
}
