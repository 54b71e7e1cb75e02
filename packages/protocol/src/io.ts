import type { Writable } from "node:stream";
import { CairnError, toCairnError } from "@cairn/errors";
import { FrameEncoder } from "./encode.js";
import { FrameType, MAGIC, frameTypeName, ownsBuffer, type Frame } from "./frames.js";
import { ByteReader } from "./reader.js";
import type { ReleasableInput } from "./stdin.js";
import { UpstreamError, type ErrorMeta } from "./upstream.js";

/** Pieces written together; `written` (if set) runs once the stream has taken all of them. */
export type WriteBatch = Uint8Array[] & { written?: () => void };

/**
 * Writes chunks to a stream, waiting for 'drain' so a slow reader slows the writer. An array is
 * one batch: written corked, so a socket or pipe gets it in one writev.
 */
export async function writeAll(chunks: AsyncIterable<Uint8Array | WriteBatch> | Iterable<Uint8Array | WriteBatch>, out: Writable = process.stdout): Promise<void> {
  let failure: Error | undefined;
  const onError = (err: Error) => {
    failure = err;
  };
  out.on("error", onError);
  try {
    for await (const chunk of chunks) {
      if (failure) break;
      let room: boolean;
      if (Array.isArray(chunk)) {
        out.cork();
        room = true;
        const written = chunk.written;
        for (let i = 0; i < chunk.length; i++) room = out.write(chunk[i], i === chunk.length - 1 ? written : undefined) && room;
        out.uncork();
      } else {
        room = out.write(chunk);
      }
      if (!room) {
        await new Promise<void>((resolve) => {
          const done = () => {
            out.off("drain", done);
            out.off("error", done);
            out.off("close", done);
            resolve();
          };
          out.on("drain", done);
          out.on("error", done);
          out.on("close", done);
        });
      }
    }
  } finally {
    out.off("error", onError);
  }
  if (failure) {
    const code = (failure as NodeJS.ErrnoException).code;
    throw code === "EPIPE" ? new CairnError("io", "output closed early (broken pipe): the next stage stopped reading") : toCairnError(failure);
  }
}

/** A write batch goes out once it holds this many bytes. */
const WRITE_BATCH = 256 * 1024;
/** Pieces smaller than this are copied together; larger ones are written as they are. */
const SMALL_PIECE = 16 * 1024;

/** Gathers encoded pieces into batches of about WRITE_BATCH bytes, copying only small pieces. */
class Batch {
  private parts: Uint8Array[] = [];
  private small: Uint8Array[] = [];
  private smallBytes = 0;
  /** Memory handed over with frames (Frame.dispose), freed once the batch is written. */
  private disposable: ArrayBuffer[] = [];
  /** Frames' `written` callbacks (Frame.written), called once the batch is written. */
  private lent: (() => void)[] = [];
  bytes = 0;

  /** Frees `data`'s ArrayBuffer after this batch is written, if the data covers all of it. */
  dispose(data: Uint8Array): void {
    if (ownsBuffer(data)) this.disposable.push(data.buffer as ArrayBuffer);
  }

  /** Tells a frame's stage, once this batch is written, that it may have its memory back. */
  lend(written: () => void): void {
    this.lent.push(written);
  }

  add(piece: Uint8Array): void {
    if (piece.length < SMALL_PIECE) {
      this.small.push(piece);
      this.smallBytes += piece.length;
    } else {
      this.joinSmall();
      this.parts.push(piece);
    }
    this.bytes += piece.length;
  }

  take(): WriteBatch {
    this.joinSmall();
    const parts: WriteBatch = this.parts;
    if (this.disposable.length > 0 || this.lent.length > 0) {
      const { disposable, lent } = this;
      // transfer(0) detaches the buffer and frees its memory now (measured: docs/benchmarks/chunk.md).
      parts.written = () => {
        for (const buffer of disposable) if (!buffer.detached) buffer.transfer(0);
        for (const written of lent) written();
      };
      this.disposable = [];
      this.lent = [];
    }
    this.parts = [];
    this.bytes = 0;
    return parts;
  }

  private joinSmall(): void {
    if (this.small.length === 0) return;
    this.parts.push(this.small.length === 1 ? this.small[0] : Buffer.concat(this.small, this.smallBytes));
    this.small = [];
    this.smallBytes = 0;
  }
}

/**
 * Encodes a stage's frames to a byte stream, with back-pressure: the stage is only asked for
 * its next frame once the output has room (at most WRITE_BATCH bytes plus one frame run ahead).
 *
 * END is written only after the stage's iterator finishes without error, so a stage that fails
 * after yielding END still never lets a complete stream reach the next stage. If the stage
 * throws (or ends without END, or yields a frame after END), an ERROR frame goes out in place of
 * END and the error is rethrown for the exit code. An upstream ERROR (UpstreamError) is passed
 * on as it arrived, naming the stage that failed first.
 *
 * Frames' data is written without copying: a stage must not change a buffer after yielding it.
 */
export async function writeFrames(tool: string, frames: AsyncIterable<Frame>, out: Writable = process.stdout): Promise<void> {
  const encoder = new FrameEncoder();
  const batch = new Batch();
  async function* batches(): AsyncGenerator<WriteBatch> {
    let end: Frame | undefined;
    try {
      for await (const frame of frames) {
        if (end) throw new CairnError("failed", `internal error: ${tool} produced a ${frameTypeName(frame.type)} frame after END`);
        if (frame.type === FrameType.END) {
          end = frame;
          continue;
        }
        for (const piece of encoder.encode(frame)) batch.add(piece);
        if (frame.dispose) batch.dispose(frame.data!);
        if (frame.written) batch.lend(frame.written);
        if (batch.bytes >= WRITE_BATCH) yield batch.take();
      }
      if (!end) throw new CairnError("failed", `internal error: ${tool} ended its stream without an END frame`);
      for (const piece of encoder.encode(end)) batch.add(piece);
      yield batch.take();
    } catch (err) {
      const e = toCairnError(err);
      if (!encoder.finished) {
        const meta: ErrorMeta = e instanceof UpstreamError ? e.origin : { tool, kind: e.kind, message: e.message };
        for (const piece of encoder.encode({ type: FrameType.ERROR, meta })) batch.add(piece);
        yield batch.take();
      }
      throw e;
    }
  }
  await writeAll(batches(), out);
}

/**
 * Looks at the first bytes of an input to tell a cairn stream from raw bytes, without losing them.
 * Returns a reader positioned at the start either way.
 */
export async function sniff(source: ReleasableInput): Promise<{ framed: boolean; input: ReleasableInput }> {
  const reader = new ByteReader(source);
  const head = await reader.read(MAGIC.length);
  // No byte at all is what a stage before this one leaves when it failed before writing (a
  // usage error, a kill): never a backup of nothing.
  if (head.length === 0) throw new CairnError("stream", "empty input: expected a cairn stream or raw bytes, and the stage before wrote nothing (did it fail?)");
  const framed = head.length === MAGIC.length && MAGIC.every((b, i) => head[i] === b);
  if (!framed && nearMagic(head)) {
    throw new CairnError("stream", `not a cairn stream: it begins with ${Buffer.from(head).toString("hex")}, close to the magic ${Buffer.from(MAGIC).toString("hex")}: a damaged stream, not raw bytes`);
  }
  async function* replay(): AsyncGenerator<Uint8Array> {
    if (head.length) yield head;
    yield* reader.rest();
  }
  // The replay starts at offset 0 of the source, so offsets released downstream are the source's.
  return { framed, input: { [Symbol.asyncIterator]: replay, release: (offset) => source.release?.(offset) } };
}

/**
 * True when 8 bytes look like a damaged magic rather than raw data (docs/protocol.md, section 1):
 * at most 4 bits away from it, its first 6 bytes (`\x89cairn`) intact, or equal to it once the
 * high bits are dropped (a 7-bit channel). Raw data starts so by chance with odds of about 1e-12.
 */
export function nearMagic(head: Uint8Array): boolean {
  if (head.length !== MAGIC.length) return false;
  let bits = 0;
  for (let i = 0; i < head.length; i++) for (let x = head[i] ^ MAGIC[i]; x; x &= x - 1) bits++;
  if (bits <= 4) return true;
  if (MAGIC.slice(0, 6).every((b, i) => head[i] === b)) return true;
  return MAGIC.every((b, i) => (head[i] & 0x7f) === (b & 0x7f));
}
