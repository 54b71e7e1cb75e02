// The packs (docs/verify.md, "Packs"): every pack the index lists must exist with the size the
// index says, and its trailer must describe exactly what the index says it holds. With
// --read-data the selected packs are downloaded whole and hashed: a pack's name is the SHA-256
// of its bytes, so bit rot is found without a key; with the owner key each object in them is
// also opened and checked against its id. Packs are visited in id order; --max-duration stops
// between packs and the state remembers the last one finished.
import { createHash } from "node:crypto";
import { CairnError } from "@cairn/errors";
import type { Storage } from "@cairn/storage";
import { PACKS_PREFIX, idFromKey, kindName, packKey, parseTrailer, readPackTrailer, toHex, trailerSpan, type PackEntry } from "@cairn/repository";
import type { Damage } from "./damage.js";
import type { VerifyIndex } from "./index-files.js";
import type { Report } from "./report.js";
import { selects, type Subset } from "./subset.js";

/** Opens one sealed object with the owner key and checks it against its id; throws CairnError. */
export type ObjectOpener = ((kind: number, id: Uint8Array, bytes: Uint8Array) => Promise<void>) & { close?: () => Promise<void> };

export interface PackCheckOptions {
  jobs: number;
  subset?: Subset;
  counter: number;
  /** Packs up to and including this id were checked by an earlier run that stopped early. */
  after?: string;
  /** Epoch ms after which no new pack is started. */
  deadline?: number;
  open?: ObjectOpener;
  /** Called after each pack with how many of this run's packs are done. */
  progress?: (done: number, total: number) => void;
}

export interface PackCheckResult {
  /** The last pack (id order) of a run the deadline stopped; undefined when every pack was visited. */
  stoppedAfter?: string;
  stopped: boolean;
}

/** Every pack in the store (id → size). */
export async function listPacks(storage: Storage): Promise<Map<string, number>> {
  const packs = new Map<string, number>();
  for await (const o of storage.list(PACKS_PREFIX)) {
    const id = idFromKey(o.key, PACKS_PREFIX);
    if (id) packs.set(id, o.size);
  }
  return packs;
}

export async function checkPacks(storage: Storage, index: VerifyIndex, stored: Map<string, number>, damage: Damage, report: Report, opts: PackCheckOptions): Promise<PackCheckResult> {
  const { table } = index;
  const whole = (p: number, message: string) => damage.packs.set(p, report.problem("pack", `pack ${table.packIdAt(p)}`, message));

  // Existence and size first: these need no request beyond the listing.
  const visit: number[] = [];
  for (let p = 0; p < table.packCount; p++) {
    const id = table.packIdAt(p);
    const size = stored.get(id);
    if (size === undefined) whole(p, "missing from the store (an index file lists it)");
    else if (size !== table.packSizes[p]) whole(p, `is ${size} bytes in the store, the index says ${table.packSizes[p]} (truncated, or replaced by another pack)`);
    else if (opts.after === undefined || id > opts.after) visit.push(p);
  }
  let unindexed = 0;
  for (const id of stored.keys()) if (table.findPack(id) < 0) unindexed++;
  if (unindexed) report.note(`${unindexed} pack${unindexed > 1 ? "s" : ""} in the store ${unindexed > 1 ? "are" : "is"} in no index file (a push in progress or killed; the next push indexes them, and so does cairn repair index)`);

  const check = async (p: number) => {
    const id = table.packIdAt(p);
    const size = table.packSizes[p];
    let entries: PackEntry[];
    if (opts.subset && selects(opts.subset, id, opts.counter)) {
      // Without a key only the hash and the trailer matter: stream the pack, keep its tail.
      // With the key every object is opened, so the whole pack is held (one per job).
      let read: { hashed: boolean; bytes?: Uint8Array; tail: Uint8Array; size: number };
      try {
        read = await readPack(storage, id, opts.open !== undefined);
        // Bytes can be damaged on the way (no response checksum is asked of the store): a pack
        // whose bytes do not hash to its name is read once more before it is called damaged.
        if (!read.hashed) {
          const again = await readPack(storage, id, opts.open !== undefined);
          report.stats.bytesRead += read.size;
          if (again.hashed) report.note(`pack ${id} hashed to its name on a second read: the first was damaged on the way, not at rest`);
          read = again;
        }
      } catch (err) {
        if (err instanceof CairnError && err.kind === "notFound") return whole(p, "missing from the store (it vanished during verify)");
        throw err;
      }
      const { hashed, bytes } = read;
      report.stats.packsRead++;
      report.stats.bytesRead += read.size;
      try {
        entries = read.tail.length < size && trailerSpan(read.tail, read.size, id) > read.tail.length ? await readPackTrailer(storage, id, read.size) : parseTrailer(read.tail, read.size, id);
      } catch (err) {
        // A newer format is not damage, unless the bytes do not hash to the pack's name (then its
        // "version" byte is as damaged as the rest).
        if (!(err instanceof CairnError) || (err.kind === "version" && hashed)) throw err;
        return whole(p, `${hashed ? "" : "its bytes do not hash to its name, and "}${err.message.replace(`pack ${id}`, "its trailer").replace(/^its trailer: /, "")}`);
      }
      report.stats.trailersChecked++;
      if (!compareTrailer(index, p, entries, report, whole)) return;
      if (!opts.open) {
        if (!hashed) whole(p, "its bytes do not hash to its name: bit rot or tampering (read without a key: every object in it is suspect)");
        return;
      }
      // Every object of the pack at once: the opener spreads them over its worker threads.
      const results = await Promise.allSettled(entries.map((e) => opts.open!(e.kind, e.id, bytes!.subarray(e.offset, e.offset + e.length))));
      let bad = 0;
      results.forEach((r, i) => {
        const e = entries[i];
        if (r.status === "fulfilled") {
          report.stats.objectsOpened++;
          return;
        }
        const err = r.reason;
        if (!(err instanceof CairnError) || !["integrity", "key", "stream"].includes(err.kind)) throw err;
        bad++;
        const name = `${kindName(e.kind)} ${toHex(e.id)}`;
        const pos = table.find(e.id);
        const problem = report.problem("object", name, `in pack ${id}: ${err.message.replace(`cannot open ${name}: `, "cannot open it: ").replace(`${name}: `, "").replace(`${name} `, "it ")}`);
        if (pos >= 0 && table.packs[pos] === p) {
          damage.objects.set(toHex(e.id), problem);
          damage.objectPacks.set(toHex(e.id), id);
        }
      });
      if (!hashed) report.problem("pack", `pack ${id}`, bad ? `its bytes do not hash to its name: ${bad} object${bad > 1 ? "s" : ""} in it fail${bad > 1 ? "" : "s"} to open (named separately)` : "its bytes do not hash to its name, yet every object in it opens and authenticates: the damage lies outside the objects");
      return;
    }
    try {
      entries = await readPackTrailer(storage, id, size);
    } catch (err) {
      if (!(err instanceof CairnError) || !["integrity", "notFound"].includes(err.kind)) throw err;
      return whole(p, err.message.replace(`pack ${id}`, "its trailer").replace(/^its trailer: /, ""));
    }
    report.stats.trailersChecked++;
    compareTrailer(index, p, entries, report, whole);
  };

  // In id order with `jobs` in flight; `frontier` is how far every pack is done (for resuming).
  const done = new Uint8Array(visit.length);
  let next = 0;
  let frontier = 0;
  let finished = 0;
  let stopped = false;
  const worker = async () => {
    while (next < visit.length) {
      // At least one pack per run, so that even a tiny budget makes progress.
      if (opts.deadline !== undefined && next > 0 && Date.now() >= opts.deadline) {
        stopped = true;
        return;
      }
      const i = next++;
      await check(visit[i]);
      done[i] = 1;
      while (frontier < visit.length && done[frontier]) frontier++;
      opts.progress?.(++finished, visit.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.jobs, visit.length)) }, worker));
  if (!stopped) return { stopped: false };
  return { stopped: true, stoppedAfter: frontier > 0 ? table.packIdAt(visit[frontier - 1]) : opts.after };
}

/**
 * The index's entries for pack p must be exactly trailer entries (kind, id, offset, length); a
 * trailer entry the index lists under no pack is a mismatch too (another pack may hold the same
 * object: the index lists it once). Returns false (and marks the pack) on a mismatch.
 */
function compareTrailer(index: VerifyIndex, p: number, entries: PackEntry[], report: Report, whole: (p: number, m: string) => void): boolean {
  const { table, byPack, packStart } = index;
  let t = 0;
  for (let k = packStart[p]; k < packStart[p + 1]; k++) {
    const pos = byPack[k];
    const offset = table.offsets[pos];
    while (t < entries.length && entries[t].offset < offset) t++;
    const e = entries[t];
    const id = table.idAt(pos);
    if (!e || e.offset !== offset || e.length !== table.lengths[pos] || e.kind !== table.kinds[pos] || !Buffer.from(e.id).equals(Buffer.from(id))) {
      whole(p, `its trailer does not hold ${kindName(table.kinds[pos])} ${toHex(id)} where the index says (offset ${offset}, ${table.lengths[pos]} bytes): the pack was replaced or altered`);
      return false;
    }
  }
  for (const e of entries) {
    if (table.find(e.id) < 0) {
      whole(p, `its trailer lists ${kindName(e.kind)} ${toHex(e.id)}, which no index file lists: the pack was replaced or altered`);
      return false;
    }
  }
  return true;
}

/** The tail kept while streaming a pack: the trailer of a pack of up to ~1500 objects. */
const TAIL = 64 * 1024;

/** Downloads a pack and hashes it; keeps the whole pack only when `whole` (to open its objects). */
async function readPack(storage: Storage, id: string, whole: boolean): Promise<{ hashed: boolean; bytes?: Uint8Array; tail: Uint8Array; size: number }> {
  if (whole) {
    const bytes = await storage.get(packKey(id));
    return { hashed: createHash("sha256").update(bytes).digest("hex") === id, bytes, tail: bytes, size: bytes.length };
  }
  const hash = createHash("sha256");
  let tail: Uint8Array = new Uint8Array(0);
  let size = 0;
  for await (const chunk of storage.getStream(packKey(id))) {
    hash.update(chunk);
    size += chunk.length;
    if (chunk.length >= TAIL) tail = chunk.slice(chunk.length - TAIL);
    else {
      const joined = new Uint8Array(Math.min(TAIL, tail.length + chunk.length));
      const keep = joined.length - chunk.length;
      joined.set(tail.subarray(tail.length - keep), 0);
      joined.set(chunk, keep);
      tail = joined;
    }
  }
  return { hashed: hash.digest("hex") === id, tail, size };
}
