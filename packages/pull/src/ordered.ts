// The keyed pull: the sealed stream in restore order, exactly as `seal -d` consumes it
// (docs/repository.md, "Pull"): START, COMMIT, the manifest root, then each manifest chunk
// followed by the data chunks its records name that the reference window does not hold
// (seal -d turns those into CHUNK_REFs), then the refs blocks and the refs root, then END.
// With PATHs, a filtered stream (docs/sealing.md, "Restoring some paths"): SEAL_INFO {select}
// after COMMIT, every manifest object as before, but data only for the selected entries, the
// reference window replayed over their chunk records alone.
// Restore order lives in the encrypted manifest, so this module needs the owner's identity; it
// is loaded only when one is given, so transport hosts never load key code.
import { CairnError } from "@cairn/errors";
import { DEFAULT_REF_WINDOW, FrameType, RefWindow, validRefWindow, type Frame } from "@cairn/protocol";
import type { Storage } from "@cairn/storage";
import { readOwnerKey } from "@cairn/keys";
import { RecordTag, Selection, checkHeader } from "@cairn/seal";
import { ID_SIZE, ObjectKind, toHex, type IndexTable } from "@cairn/repository";
import { endMeta, sealedFrame, startMeta, type OpenedSnapshot } from "./index.js";
import { fetchObjects, type FetchItem } from "./fetch.js";
import { locate, readManifest } from "./manifest.js";
import { PackSpans } from "./spans.js";

/** Bytes read from a pack from a manifest chunk's offset on (the data it describes follows it):
 * the rest of a pack of the default size (32 MiB target + the object that crossed it). */
const SPAN = 36 * 1024 * 1024;
/**
 * Packs read ahead of the one restore order is in (and spans' worth of reads planned ahead of the
 * consumer), from S3: `--jobs` − 1 (default 3). From a store across a network each round trip and
 * each connection's rate count: compare's 1 GiB through a proxy allowing 20 MB/s per connection
 * with a 30 ms round trip restored in 15.5–18.3 s with 3 ahead against 26.0–29.3 reading each pack
 * at its turn (docs/repository.md, "Pull"; 2 ahead: about 20 s). Each pack ahead costs a span of
 * memory, so `--jobs 1` reads none ahead; a folder answers at once, and none are read ahead there.
 */
export function packsAheadFor(storage: Storage, jobs = 4): number {
  return storage.url.startsWith("file:") ? 0 : Math.max(0, jobs - 1);
}
/** Objects of one pack that a manifest chunk needs and that lie at most this far apart are read
 * with one GET (over-reading the gaps) instead of one each. */
const RUN_GAP = 1024 * 1024;

export interface OrderedOptions {
  jobs?: number;
  /** Packs read ahead (default: packsAheadFor the store and jobs). */
  packsAhead?: number;
  /** Owner key file. */
  identity: string;
  paths: string[];
  passphrase?: string;
}

export async function* pullOrdered(storage: Storage, opened: OpenedSnapshot, opts: OrderedOptions): AsyncGenerator<Frame> {
  const owner = await readOwnerKey(opts.identity, { passphrase: opts.passphrase });
  const { snapshot, table } = opened;
  yield { type: FrameType.START, meta: startMeta(snapshot) };
  yield { type: FrameType.COMMIT, meta: snapshot.commit };
  const selection = opts.paths.length > 0 ? new Selection(opts.paths) : undefined;
  if (opts.paths.length > 0) yield { type: FrameType.SEAL_INFO, meta: { select: opts.paths } };
  let objects = 0;
  const packsAhead = Math.max(0, opts.packsAhead ?? packsAheadFor(storage, opts.jobs));
  const order = restoreOrder(storage, table, snapshot.manifest, snapshot.refs, { identities: owner.identities, idKey: owner.idKey, lookahead: opts.jobs ?? 4, selection, packsAhead });
  for await (const [pos, bytes] of fetchObjects(storage, table, order, { jobs: opts.jobs, ahead: packsAhead * SPAN })) {
    yield sealedFrame(table, pos, bytes);
    objects++;
  }
  yield { type: FrameType.END, meta: endMeta(snapshot, objects) };
}

/** The objects in restore order, discovered by reading the manifest as it goes. */
async function* restoreOrder(
  storage: Storage,
  table: IndexTable,
  manifestRoot: string,
  refsRoot: string,
  opts: { identities: string[]; idKey?: Uint8Array; lookahead: number; selection?: Selection; packsAhead: number },
): AsyncGenerator<FetchItem> {
  // Spans held for lookups: those ahead, and three more (the one the consumer is in, runs of
  // older data; three was the budget before any read-ahead, and a folder keeps it).
  const ahead = opts.packsAhead * SPAN;
  const budget = ahead + 3 * SPAN;
  let window = new RefWindow(DEFAULT_REF_WINDOW);
  let skipping = false; // inside an entry the selection leaves out
  let matched = false;
  // Each manifest chunk is read with the span of its pack after it, where its data usually lies
  // (docs/repository.md, "Pull"); with PATHs most of that data is not wanted, so only the
  // manifest chunk itself is read.
  const speculate = !opts.selection;
  const spans = new PackSpans(storage, table, speculate ? SPAN : 0, budget);
  const lastInPack = (pos: number) => speculate && spans.lastInPack(pos);
  let previous = -1; // the object yielded last
  // Each item handed over weighs the bytes of the spans started since the one before it (span
  // reads ahead, runs, continuations): fetchObjects stops asking for more once `ahead` such bytes
  // wait in line, which bounds what planning starts however small the objects it wants are. The
  // runs one manifest chunk needs are started together (planReads), so the bound holds per
  // manifest chunk: one chunk's runs may take it past `ahead` once.
  let charged = 0;
  const given = (pos: number, bytes: Uint8Array | Promise<Uint8Array>, own = 0): FetchItem => {
    const weight = spans.started - charged + own;
    charged = spans.started;
    return { pos, bytes, weight };
  };
  // An object a held span covers is handed over with its bytes still in flight (not awaited), so
  // this generator plans, and starts the reads of, the spans ahead of the one the consumer is in,
  // up to `ahead` bytes of them (see `given`; docs/repository.md, "Pull").
  const fromSpan = (pos: number): FetchItem => {
    const after = previous;
    previous = pos;
    if (spans.covers(pos)) return given(pos, spans.read(pos));
    // A manifest chunk's data continues at the start of the next pack when push cut the pack in
    // between (the object before is the last of its pack): read that pack as a span from its
    // start, which then also holds the next manifest chunk and its data (the reader waits for
    // this before it reads that chunk; see `readAhead`).
    if (speculate && table.offsets[pos] === 0 && after >= 0 && table.packs[after] !== table.packs[pos] && lastInPack(after)) {
      return given(pos, spans.read(pos));
    }
    return pos;
  };
  // The data a manifest chunk needs that no span holds: the start of a pack where data continues
  // (as fromSpan would read it), then runs of objects close together in one pack (older data a
  // snapshot shares with earlier ones, interleaved with new data in another pack), each one GET;
  // a run that continues where the last read of its pack ended reads on as a whole span (restore
  // order is going through that pack in order).
  const planReads = (wanted: number[], after: number) => {
    for (const pos of wanted) {
      if (speculate && !spans.covers(pos) && table.offsets[pos] === 0 && table.packs[after] !== table.packs[pos] && lastInPack(after)) spans.read(pos).catch(() => {});
      after = pos;
    }
    const loose = wanted.filter((pos) => !spans.covers(pos)).sort((a, b) => table.packs[a] - table.packs[b] || table.offsets[a] - table.offsets[b]);
    for (let i = 0; i < loose.length; ) {
      const first = loose[i];
      if (spans.covers(first)) {
        i++; // a run read on before it reached this far
        continue;
      }
      let end = table.offsets[first] + table.lengths[first];
      let j = i + 1;
      for (; j < loose.length && table.packs[loose[j]] === table.packs[first]; j++) {
        const next = loose[j];
        const nextEnd = table.offsets[next] + table.lengths[next];
        if (table.offsets[next] - end > RUN_GAP || nextEnd - table.offsets[first] > SPAN) break;
        end = Math.max(end, nextEnd);
      }
      const sequential = spans.follows(first, RUN_GAP);
      if (sequential) end = Math.max(end, Math.min(table.offsets[first] + SPAN, table.packSizes[table.packs[first]]));
      if (j - i >= 2 || sequential) spans.readRun(first, end);
      i = j;
    }
  };
  // A manifest chunk no span holds is read as a span from the start of its pack when nothing of
  // that pack was read yet: data the chunk before it describes may lie in front of it there
  // (push cut the pack in between), and so does, in a snapshot that made the pack, all else in it.
  // A manifest chunk in a pack already read from is read only at its turn: by then the data before
  // it in its pack is known, and the span can start there instead of at the manifest chunk.
  //
  // The chunk that says what the next pack holds usually lies in that pack itself, so reading each
  // pack at its turn would read one pack at a time. Instead the packs holding manifest chunks are
  // ranked (each by its first manifest chunk) in the order restore order comes to them, as the
  // root lists them; whenever restore order comes to one, the next `packsAhead` are read, while
  // fewer than `ahead` bytes of spans are in flight. The manifest chunks' own read-ahead
  // (readManifest's lookahead) may read such a pack early too, under the same bound.
  // The manifest root (a few bytes at the end of the last pack) is read alone: a span from there
  // would hold nothing else and would make its pack look read from.
  // With PATHs a manifest chunk is fetched alone and not held as a span: a held one would make
  // the data after it look like restore order going on through its pack (`follows`), and read up
  // to 36 MiB of it for one small file; and the spans list would grow with the manifest.
  const rootPos = table.find(Buffer.from(manifestRoot, "hex"));
  const fresh = (pos: number) => speculate && !spans.covers(pos) && !spans.touched(pos);
  const read = (pos: number) => (pos === rootPos || !speculate ? spans.get(pos) : spans.read(pos, fresh(pos)));
  const readAhead = (pos: number) => !speculate || spans.covers(pos) || (fresh(pos) && spans.loadingBytes < ahead);
  const firsts: number[] = [];
  const rank = new Map<number, number>(); // pack → its place in firsts
  const onRoot = (positions: number[]) => {
    for (const pos of positions) if (pos >= 0 && !rank.has(table.packs[pos])) rank.set(table.packs[pos], firsts.push(pos) - 1);
  };
  const readPacksAfter = (pos: number) => {
    const from = rank.get(table.packs[pos]);
    if (from === undefined) return;
    for (let r = from + 1; r <= from + opts.packsAhead && r < firsts.length && spans.loadingBytes < ahead; r++) if (fresh(firsts[r])) read(firsts[r]).catch(() => {});
  };
  for await (const piece of readManifest(storage, table, manifestRoot, { ...opts, read, ahead: readAhead, onRoot })) {
    if (speculate) readPacksAfter(piece.pos);
    // With PATHs a manifest chunk was fetched alone, no span charged for it: it weighs its own
    // bytes, or the manifest would be read whole ahead of the consumer, each chunk held.
    yield given(piece.pos, piece.bytes, speculate ? 0 : piece.bytes.length);
    previous = piece.pos;
    const wanted: number[] = [];
    for (const r of piece.records) {
      if (r.tag === RecordTag.HEADER) {
        // As seal -d will: a header of another version (11), or without a valid window, stops here.
        const header = checkHeader(r.meta, "the manifest");
        if (!validRefWindow(header.start.refWindow)) throw new CairnError("integrity", `the manifest header's START has no valid refWindow (${JSON.stringify(header.start.refWindow)})`);
        window = new RefWindow(header.start.refWindow);
      } else if (r.tag === RecordTag.ENTRY) {
        skipping = opts.selection !== undefined && !opts.selection.has(r.meta);
        matched ||= !skipping;
      } else if (r.tag === RecordTag.CHUNK) {
        if (skipping) continue;
        const key = toHex(r.id);
        if (window.has(key)) continue;
        wanted.push(locate(table, r.id, ObjectKind.data));
        window.add(key, r.size, undefined);
      }
    }
    planReads(wanted, piece.pos);
    for (const pos of wanted) yield fromSpan(pos);
  }
  if (!matched) throw new CairnError("notFound", "no entry of the snapshot is or lies under the PATHs given");
  const refsPos = locate(table, Buffer.from(refsRoot, "hex"), ObjectKind.refsRoot);
  const refsBytes = await spans.get(refsPos);
  for (let i = 0; i < refsBytes.length; i += ID_SIZE) yield fromSpan(locate(table, refsBytes.subarray(i, i + ID_SIZE), ObjectKind.refsBlock));
  yield { pos: refsPos, bytes: refsBytes };
}
