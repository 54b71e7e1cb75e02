/** Reads exact byte counts from an async iterable of chunks, without copying when a read fits in one chunk. */
export class ByteReader {
  private readonly it: AsyncIterator<Uint8Array>;
  private cur: Uint8Array = new Uint8Array(0);
  private pos = 0;
  /** Bytes consumed so far. */
  offset = 0;

  constructor(private readonly source: AsyncIterable<Uint8Array> & { release?(offset: number): void }) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** Tells the source that no byte before `offset` (default: the current one) is needed any more (stdin.ts). */
  release(offset = this.offset): void {
    this.source.release?.(offset);
  }

  /** Up to n bytes: exactly n unless the input ended first. */
  async read(n: number): Promise<Uint8Array> {
    if (this.cur.length - this.pos >= n) {
      const view = this.cur.subarray(this.pos, this.pos + n);
      this.pos += n;
      this.offset += n;
      return view;
    }
    // The read spans chunks: gather the pieces and copy once, so a length that the input never
    // delivers (a truncated or forged frame) costs no more memory than the bytes that did arrive.
    const pieces: Uint8Array[] = [];
    let filled = 0;
    while (filled < n) {
      if (this.pos >= this.cur.length) {
        const next = await this.it.next();
        if (next.done) break;
        this.cur = next.value;
        this.pos = 0;
        continue;
      }
      const take = Math.min(n - filled, this.cur.length - this.pos);
      pieces.push(this.cur.subarray(this.pos, this.pos + take));
      filled += take;
      this.pos += take;
    }
    this.offset += filled;
    if (pieces.length === 0) return new Uint8Array(0);
    if (pieces.length === 1) return pieces[0];
    if (adjacent(pieces)) return Buffer.from(pieces[0].buffer, pieces[0].byteOffset, filled);
    // Uninitialised memory: every byte is overwritten below, and zero-filling a fresh
    // megabyte per frame costs as much as the copy.
    const out = Buffer.allocUnsafeSlow(filled);
    let at = 0;
    for (const piece of pieces) {
      out.set(piece, at);
      at += piece.length;
    }
    return out;
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    while (this.pos >= this.cur.length) {
      const next = await this.it.next();
      if (next.done) return true;
      this.cur = next.value;
      this.pos = 0;
    }
    return false;
  }

  /** What has been read ahead but not consumed, followed by the rest of the input. */
  async *rest(): AsyncGenerator<Uint8Array> {
    if (this.pos < this.cur.length) yield this.cur.subarray(this.pos);
    this.pos = this.cur.length;
    for (;;) {
      const next = await this.it.next();
      if (next.done) return;
      yield next.value;
    }
  }

  /** Stops reading the source (lets a file or pipe close). */
  async close(): Promise<void> {
    await this.it.return?.();
  }
}

/** True when each piece starts where the one before ends, in the same memory (pipeChunks' slabs). */
function adjacent(pieces: Uint8Array[]): boolean {
  for (let i = 1; i < pieces.length; i++) {
    const a = pieces[i - 1];
    const b = pieces[i];
    if (b.buffer !== a.buffer || b.byteOffset !== a.byteOffset + a.length) return false;
  }
  return true;
}
