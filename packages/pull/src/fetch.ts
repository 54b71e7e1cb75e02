// Fetching many objects from packs: ranges coalesced per pack (neighbours closer than `gap`
// merge into one GET, up to `maxRange` bytes), `jobs` GETs in flight, results in request order,
// so memory stays at about jobs × maxRange whatever the snapshot's size.
import type { Storage } from "@cairn/storage";
import { CairnError } from "@cairn/errors";
import { packKey, toHex, kindName, type IndexTable } from "@cairn/repository";

export interface FetchOptions {
  jobs?: number;
  gap?: number;
  maxRange?: number;
}

interface Range {
  pack: number;
  offset: number;
  length: number;
  /** Table positions served by this range, in offset order. */
  positions: number[];
}

/** Groups table positions (in the order given) into coalesced ranges; positions of one pack should be adjacent and offset-sorted. */
export function coalesce(table: IndexTable, positions: Iterable<number>, gap: number, maxRange: number): Range[] {
  const out: Range[] = [];
  let cur: Range | undefined;
  for (const pos of positions) {
    const pack = table.packs[pos];
    const offset = table.offsets[pos];
    const length = table.lengths[pos];
    if (cur && cur.pack === pack && offset >= cur.offset + cur.length && offset - (cur.offset + cur.length) <= gap && offset + length - cur.offset <= maxRange) {
      cur.length = offset + length - cur.offset;
      cur.positions.push(pos);
      continue;
    }
    cur = { pack, offset, length, positions: [pos] };
    out.push(cur);
  }
  return out;
}

/** Yields [position, object bytes] for every position, in the given order. */
export async function* fetchObjects(storage: Storage, table: IndexTable, positions: Iterable<number>, opts: FetchOptions = {}): AsyncGenerator<[number, Uint8Array]> {
  const jobs = opts.jobs ?? 4;
  const ranges = coalesce(table, positions, opts.gap ?? 256 * 1024, opts.maxRange ?? 8 * 1024 * 1024);
  const pending: Promise<Uint8Array>[] = [];
  let next = 0;
  const startOne = () => {
    const r = ranges[next++];
    const p = fetchRange(storage, table, r);
    p.catch(() => {}); // awaited in order below; avoid an unhandled rejection meanwhile
    pending.push(p);
  };
  while (next < ranges.length && pending.length < jobs) startOne();
  for (let i = 0; i < ranges.length; i++) {
    const bytes = await pending.shift()!;
    if (next < ranges.length) startOne();
    const r = ranges[i];
    for (const pos of r.positions) {
      const at = table.offsets[pos] - r.offset;
      yield [pos, bytes.subarray(at, at + table.lengths[pos])];
    }
  }
}

async function fetchRange(storage: Storage, table: IndexTable, r: Range): Promise<Uint8Array> {
  const pack = table.packIdAt(r.pack);
  let bytes: Uint8Array;
  try {
    bytes = await storage.get(packKey(pack), { offset: r.offset, length: r.length });
  } catch (err) {
    if (err instanceof CairnError && err.kind === "notFound") {
      const first = r.positions[0];
      throw new CairnError("notFound", `pack ${pack} is missing from the repository (it holds ${kindName(table.kinds[first])} ${toHex(table.idAt(first))}${r.positions.length > 1 ? ` and ${r.positions.length - 1} more objects` : ""})`);
    }
    throw err;
  }
  if (bytes.length !== r.length) throw new CairnError("integrity", `pack ${pack} is shorter than the index says (wanted bytes ${r.offset}…${r.offset + r.length})`);
  return bytes;
}
