// Speculative pack reads for restore order (docs/repository.md, "Pull"). push stores objects in
// stream order and seal emits each manifest chunk right before the data it describes, so in a
// pack a manifest chunk is usually followed by exactly that data. Reading a manifest chunk
// therefore reads a whole span of its pack from its offset (up to `span` bytes, at most to the
// pack's end); the data after it is then taken from the span instead of being fetched again.
// Spans are held up to `budget` bytes in all (oldest dropped first), so memory is bounded; an
// object no held span covers is fetched on its own by the caller.
//
// A span is read as up to MAX_PARTS ranged GETs at once (parts of at least PART_MIN bytes), so
// that one large file, whose restore order goes through its packs one span after another, is
// still fetched over more than one connection (issue 4): a store far away serves each connection
// at a limited rate. An object that straddles two parts is joined into a buffer of its own.
import { CairnError } from "@cairn/errors";
import type { Storage } from "@cairn/storage";
import { kindName, packKey, toHex, type IndexTable } from "@cairn/repository";

/** A span is split into parts of at least this size, at most MAX_PARTS of them. */
const PART_MIN = 12 * 1024 * 1024;
const MAX_PARTS = 2;

interface Span {
  pack: number;
  offset: number;
  end: number;
  /** Bytes from the span's offset on: parts of `partSize` bytes each (the last may be shorter). */
  parts: Promise<Uint8Array[]>;
  partSize: number;
  /** When it last covered an object asked about (Infinity: read ahead, not reached yet). */
  used: number;
}

export class PackSpans {
  private readonly spans: Span[] = [];
  private heldBytes = 0;
  private clock = 0;
  /** Bytes of all spans ever started (a producer charges its consumer with what it started). */
  started = 0;
  /** Bytes of the spans whose GETs have not all finished. */
  private loading = 0;
  /** Per pack, where the last span read from it ended (0: none yet). */
  private readonly lastEnd: Float64Array;
  /** Per pack, where its objects end (its trailer begins); made on first use. */
  private dataEnds: Float64Array | undefined;

  constructor(
    private readonly storage: Storage,
    private readonly table: IndexTable,
    private readonly span: number,
    private readonly budget: number,
  ) {
    this.lastEnd = new Float64Array(table.packCount);
  }

  /** Bytes of spans still being read. */
  get loadingBytes(): number {
    return this.loading;
  }

  /** Whether any span was read from the object's pack yet. */
  touched(pos: number): boolean {
    return this.lastEnd[this.table.packs[pos]] > 0;
  }

  /** Where the objects of the pack holding pos end: its trailer (16 + 41 × count bytes, docs/repository.md, "Packs") begins there. */
  dataEnd(pos: number): number {
    if (!this.dataEnds) {
      const { packs, packSizes } = this.table;
      const counts = new Uint32Array(this.table.packCount);
      for (let i = 0; i < this.table.size; i++) counts[packs[i]]++;
      this.dataEnds = Float64Array.from(packSizes, (size, pack) => size - 16 - 41 * counts[pack]);
    }
    return this.dataEnds[this.table.packs[pos]];
  }

  /** Whether an object is the last of its pack. */
  lastInPack(pos: number): boolean {
    return this.table.offsets[pos] + this.table.lengths[pos] === this.dataEnd(pos);
  }

  /** Whether the object at pos lies at most `gap` bytes after the end of the last span read from its pack. */
  follows(pos: number, gap: number): boolean {
    const last = this.lastEnd[this.table.packs[pos]];
    const offset = this.table.offsets[pos];
    return last > 0 && offset >= last && offset - last <= gap;
  }

  /** Whether a held span (read or in flight) covers the object at pos. */
  covers(pos: number): boolean {
    return this.covering(pos) !== undefined;
  }

  /** The held span that covers the object at pos, if any (its bytes may still be in flight). */
  private covering(pos: number): Span | undefined {
    const { packs, offsets, lengths } = this.table;
    const start = offsets[pos];
    const end = start + lengths[pos];
    const s = this.spans.find((s) => s.pack === packs[pos] && s.offset <= start && end <= s.end);
    if (s) s.used = ++this.clock;
    return s;
  }

  /** The object's bytes from a held span, or undefined when none covers it. */
  async held(pos: number): Promise<Uint8Array | undefined> {
    const s = this.covering(pos);
    return s ? this.slice(s, pos, await s.parts) : undefined;
  }

  /** Like held, but fetches the object alone when no span covers it (nothing new is held). */
  async get(pos: number): Promise<Uint8Array> {
    return (await this.held(pos)) ?? this.fetch(pos, this.table.packs[pos], this.table.offsets[pos], this.table.offsets[pos] + this.table.lengths[pos]);
  }

  /**
   * The object's bytes: from a held span, else from a new span that starts at the object (or,
   * `ahead`, at the start of its pack, up to `span` bytes or its objects' end, when the object
   * lies within that: a pack read ahead of restore order, kept until restore order reaches it).
   */
  read(pos: number, ahead = false): Promise<Uint8Array> {
    let s = this.covering(pos);
    if (!s) {
      const objectEnd = this.table.offsets[pos] + this.table.lengths[pos];
      const fromStart = ahead && objectEnd <= this.span;
      const offset = fromStart ? 0 : this.table.offsets[pos];
      const packEnd = fromStart ? this.dataEnd(pos) : this.table.packSizes[this.table.packs[pos]];
      s = this.hold(pos, Math.max(objectEnd, Math.min(offset + this.span, packEnd)), offset, ahead);
    }
    const span = s;
    return span.parts.then((parts) => this.slice(span, pos, parts) ?? this.fetch(pos, span.pack, this.table.offsets[pos], this.table.offsets[pos] + this.table.lengths[pos]));
  }

  /** Starts reading the object at pos and what follows it in its pack up to `end` as a held span. */
  readRun(pos: number, end: number): void {
    this.hold(pos, end);
  }

  /**
   * A span of the pack holding pos, offset…end, which must include that object. Over the budget,
   * the span used longest ago is dropped first, one read ahead and not reached yet last.
   */
  private hold(pos: number, end: number, offset = this.table.offsets[pos], ahead = false): Span {
    const pack = this.table.packs[pos];
    const count = Math.max(1, Math.min(MAX_PARTS, Math.floor((end - offset) / PART_MIN)));
    // The first part holds the object at pos whole (fetch checks that), however large.
    const partSize = Math.max(Math.ceil((end - offset) / count), this.table.offsets[pos] + this.table.lengths[pos] - offset);
    const parts: Promise<Uint8Array>[] = [];
    for (let at = offset; at < end; at += partSize) parts.push(this.fetch(pos, pack, at, Math.min(end, at + partSize), at === offset));
    const s: Span = { pack, offset, end, parts: Promise.all(parts), partSize, used: ahead ? Infinity : ++this.clock };
    this.started += end - offset;
    this.loading += end - offset;
    s.parts.then(
      () => void (this.loading -= end - offset),
      () => void (this.loading -= end - offset),
    ); // and awaited by whoever reads from it
    this.spans.push(s);
    this.heldBytes += end - offset;
    this.lastEnd[pack] = end;
    while (this.spans.length > 1 && this.heldBytes > this.budget) {
      let victim = 0;
      for (let i = 1; i < this.spans.length - 1; i++) if (this.spans[i].used < this.spans[victim].used) victim = i;
      const [old] = this.spans.splice(victim, 1);
      this.heldBytes -= old.end - old.offset;
    }
    return s;
  }

  /** The object's bytes within a span, or undefined when the pack was shorter than expected. */
  private slice(s: Span, pos: number, parts: Uint8Array[]): Uint8Array | undefined {
    const at = this.table.offsets[pos] - s.offset;
    const end = at + this.table.lengths[pos];
    const first = Math.floor(at / s.partSize);
    const inFirst = at - first * s.partSize;
    if (first >= parts.length) return undefined;
    if (end <= (first + 1) * s.partSize) return inFirst + (end - at) <= parts[first].length ? parts[first].subarray(inFirst, inFirst + end - at) : undefined;
    // Across a part boundary: joined into a buffer of its own. Every byte is copied below.
    const out: Uint8Array = Buffer.allocUnsafeSlow(end - at);
    let filled = 0;
    for (let i = first, from = inFirst; filled < out.length; i++, from = 0) {
      if (i >= parts.length || (i < parts.length - 1 && parts[i].length < s.partSize)) return undefined; // a short pack
      const piece = parts[i].subarray(from, from + out.length - filled);
      if (piece.length === 0) return undefined;
      out.set(piece, filled);
      filled += piece.length;
    }
    return out;
  }

  /** Bytes offset…end of a pack; `whole`: they include the object at pos, which must arrive whole. */
  private async fetch(pos: number, packOrdinal: number, offset: number, end: number, whole = true): Promise<Uint8Array> {
    const pack = this.table.packIdAt(packOrdinal);
    let bytes: Uint8Array;
    try {
      bytes = await this.storage.get(packKey(pack), { offset, length: end - offset });
    } catch (err) {
      if (err instanceof CairnError && err.kind === "notFound") {
        throw new CairnError("notFound", `pack ${pack} is missing from the repository (it holds ${kindName(this.table.kinds[pos])} ${toHex(this.table.idAt(pos))})`);
      }
      throw err;
    }
    // A span past the pack's real end (a damaged pack) comes back short: only the object at pos
    // must be whole; objects beyond are fetched alone and fail there with their own message.
    if (whole && bytes.length < this.table.offsets[pos] + this.table.lengths[pos] - offset) throw new CairnError("integrity", `pack ${pack} is shorter than the index says (wanted bytes ${offset}…${end})`);
    return bytes;
  }
}
