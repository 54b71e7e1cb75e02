// Fetching objects from packs in a given order: consecutive objects of one pack that lie close
// together (gaps up to `gap`) are read with one ranged GET of at most `maxRange` bytes; `jobs`
// GETs are in flight while earlier results are handed out in order. The order may be produced
// lazily (restore order is discovered while reading the manifest), and memory stays at about
// jobs × maxRange (4 × 36 MiB by default: a whole pack of the default size is one GET; a pack
// read whole for its check, `wholePack`, is one GET of its size), plus what
// given items weigh (below, up to `ahead`), whatever the snapshot's size.
// The producer may also hand over an object whose bytes it is reading itself (a promise), with the
// bytes of the reads it started for it: items are taken from it until `ahead` such bytes wait in
// line, so that a producer that starts its reads as it hands items over (restore order's spans)
// reads that far ahead of the consumer and no further.
import { createHash } from "node:crypto";
import type { Storage } from "@cairn/storage";
import { CairnError } from "@cairn/errors";
import { freeData } from "@cairn/protocol";
import { packKey, toHex, kindName, type IndexTable } from "@cairn/repository";

export interface FetchOptions {
  jobs?: number;
  gap?: number;
  maxRange?: number;
  /** Bytes (objects, or what given items weigh) queued ahead of the consumer before the producer is asked for more. */
  ahead?: number;
  /**
   * Packs (ordinals) to read whole, offset 0 to their size in one GET, and check against their
   * names (a pack's id is the SHA-256 of its bytes, docs/repository.md "Packs") before any of
   * their objects is handed out: a damaged pack fails the fetch (integrity) instead.
   */
  wholePack?: (pack: number) => boolean;
}

/**
 * A table position to fetch, or one whose bytes the producer has or is reading. `weight`: the
 * bytes the item makes the producer hold (the reads it started to give it; default its length).
 */
export type FetchItem = number | { pos: number; bytes: Uint8Array | Promise<Uint8Array>; weight?: number };

interface Range {
  pack: number;
  offset: number;
  length: number;
  positions: number[];
  /** The whole pack, checked against its name. */
  whole?: boolean;
}

type Slot = { pos: number; given: Uint8Array | Promise<Uint8Array>; weight: number } | { range: Range; bytes: Promise<Uint8Array> };

/** Items waiting in line at most, whatever their weight (each slot is small, but not free). */
const MAX_SLOTS = 1 << 16;

/**
 * Yields [position, object bytes] for every item, in the items' order. An object's bytes are a
 * view of its range's buffer, valid until the next object is asked for: that buffer is freed once
 * its last object has been taken, so a caller that keeps an object keeps a copy.
 */
export async function* fetchObjects(
  storage: Storage,
  table: IndexTable,
  items: Iterable<FetchItem> | AsyncIterable<FetchItem>,
  opts: FetchOptions = {},
): AsyncGenerator<[number, Uint8Array]> {
  const jobs = opts.jobs ?? 4;
  const gap = opts.gap ?? 256 * 1024;
  const maxRange = opts.maxRange ?? 36 * 1024 * 1024;
  const aheadLimit = opts.ahead ?? 2 * maxRange;
  const slots: Slot[] = [];
  let open: Range | undefined;
  let inFlight = 0;
  let queued = 0; // bytes of the objects in slots

  const launch = () => {
    if (!open) return;
    const range = open;
    open = undefined;
    const bytes = fetchRange(storage, table, range);
    bytes.catch(() => {}); // awaited in order below
    slots.push({ range, bytes });
    inFlight++;
    queued += range.length;
  };
  async function* takeFront(): AsyncGenerator<[number, Uint8Array]> {
    const slot = slots.shift()!;
    if ("given" in slot) {
      const bytes = await slot.given;
      queued -= slot.weight;
      yield [slot.pos, bytes];
      return;
    }
    const bytes = await slot.bytes;
    inFlight--;
    queued -= slot.range.length;
    for (const pos of slot.range.positions) {
      const at = table.offsets[pos] - slot.range.offset;
      yield [pos, bytes.subarray(at, at + table.lengths[pos])];
    }
    // Up to 36 MiB, freed now rather than left to the collector (docs/benchmarks/memory.md).
    freeData(bytes);
  }

  for await (const item of items) {
    if (typeof item !== "number") {
      launch();
      if (item.bytes instanceof Promise) item.bytes.catch(() => {}); // awaited in order below
      const weight = item.weight ?? table.lengths[item.pos];
      slots.push({ pos: item.pos, given: item.bytes, weight });
      queued += weight;
    } else {
      const pack = table.packs[item];
      const offset = table.offsets[item];
      const end = offset + table.lengths[item];
      // The next object of the same pack (or one the open range already holds: a repeat) joins it.
      if (open?.whole && open.pack === pack) {
        open.positions.push(item);
      } else if (open && !open.whole && open.pack === pack && offset >= open.offset && offset - (open.offset + open.length) <= gap && end - open.offset <= maxRange) {
        open.length = Math.max(open.length, end - open.offset);
        open.positions.push(item);
      } else {
        launch();
        open = opts.wholePack?.(pack) ? { pack, offset: 0, length: table.packSizes[pack], positions: [item], whole: true } : { pack, offset, length: end - offset, positions: [item] };
      }
    }
    while (inFlight >= jobs || queued > aheadLimit || slots.length > MAX_SLOTS) yield* takeFront();
  }
  launch();
  while (slots.length > 0) yield* takeFront();
}

async function fetchRange(storage: Storage, table: IndexTable, r: Range): Promise<Uint8Array> {
  const pack = table.packIdAt(r.pack);
  let bytes: Uint8Array;
  try {
    bytes = await storage.get(packKey(pack), { offset: r.offset, length: r.length });
  } catch (err) {
    if (err instanceof CairnError && err.kind === "notFound") {
      const first = r.positions[0];
      const more = r.positions.length > 1 ? ` and ${r.positions.length - 1} more objects` : "";
      throw new CairnError("notFound", `pack ${pack} is missing from the repository (it holds ${kindName(table.kinds[first])} ${toHex(table.idAt(first))}${more})`);
    }
    throw err;
  }
  if (bytes.length !== r.length) throw new CairnError("integrity", `pack ${pack} is shorter than the index says (wanted bytes ${r.offset}…${r.offset + r.length})`);
  if (r.whole && createHash("sha256").update(bytes).digest("hex") !== pack) {
    throw new CairnError("integrity", `pack ${pack} is damaged: its bytes do not hash to its name (none of its objects was passed on)`);
  }
  return bytes;
}
