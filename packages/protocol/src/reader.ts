/** Reads exact byte counts from an async iterable of chunks, without copying when a read fits in one chunk. */
export class ByteReader {
  private readonly it: AsyncIterator<Uint8Array>;
  private cur: Uint8Array = new Uint8Array(0);
  private pos = 0;
  /** Bytes consumed so far. */
  offset = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** Up to n bytes: exactly n unless the input ended first. */
  async read(n: number): Promise<Uint8Array> {
    if (this.cur.length - this.pos >= n) {
      const view = this.cur.subarray(this.pos, this.pos + n);
      this.pos += n;
      this.offset += n;
      return view;
    }
    const out = new Uint8Array(n);
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
      out.set(this.cur.subarray(this.pos, this.pos + take), filled);
      filled += take;
      this.pos += take;
    }
    this.offset += filled;
    return filled === n ? out : out.subarray(0, filled);
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

  async close(): Promise<void> {
    await this.it.return?.();
  }
}
