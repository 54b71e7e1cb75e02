/**
 * The reference window of the chunked stream (docs/protocol.md, "Reference window").
 *
 * A chunk that occurs again in a stream is sent as a CHUNK_REF instead of its data only while
 * its data is still among the most recent `limit` bytes of chunk data sent: every stage that
 * writes or reads chunked frames (chunk, chunk -d, seal, seal -d, pull) replays this same rule,
 * so a reader resolves every reference from a buffer of at most `limit` bytes.
 *
 * The window is a FIFO of distinct chunks in the order their data was sent. A CHUNK adds its
 * chunk (evicting the oldest until the total fits in `limit` bytes and the count is below
 * MAX_WINDOW_CHUNKS); a CHUNK_REF changes nothing.
 */
export const DEFAULT_REF_WINDOW = 64 * 1024 * 1024;
/** At most this many chunks in the window, so many tiny chunks cannot grow it without bound. */
export const MAX_WINDOW_CHUNKS = 16384;
/** The largest reference window a reader accepts: it is the memory the reader may need. */
export const MAX_REF_WINDOW = 1024 * 1024 * 1024;

/** Whether a START's `refWindow` is one every reader accepts (it is required: docs/protocol.md). */
export function validRefWindow(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= MAX_REF_WINDOW;
}

export class RefWindow<T = undefined> {
  private readonly order: string[] = [];
  private head = 0;
  private readonly entries = new Map<string, { size: number; value: T }>();
  private total = 0;

  /** `onEvict`: called with the value of each chunk that leaves the window (a reader frees its data). */
  constructor(
    readonly limit: number = DEFAULT_REF_WINDOW,
    private readonly onEvict?: (value: T) => void,
  ) {}

  /** True when an occurrence of this chunk may be sent as a reference. */
  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** The value kept with a chunk in the window (the reader keeps the data here). */
  get(id: string): T | undefined {
    return this.entries.get(id)?.value;
  }

  /** Records that a chunk's data was sent. Chunks larger than the whole window are never kept. */
  add(id: string, size: number, value: T): void {
    if (this.entries.has(id)) return;
    if (size > this.limit) return;
    while (this.total + size > this.limit || this.entries.size >= MAX_WINDOW_CHUNKS) this.evictOldest();
    this.entries.set(id, { size, value });
    this.order.push(id);
    this.total += size;
  }

  /** Empties the window, as if every chunk in it were evicted. */
  clear(): void {
    while (this.entries.size > 0) this.evictOldest();
  }

  private evictOldest(): void {
    const id = this.order[this.head++];
    const entry = this.entries.get(id)!;
    this.entries.delete(id);
    this.total -= entry.size;
    this.onEvict?.(entry.value);
    if (this.head > 4096 && this.head * 2 > this.order.length) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
  }
}
