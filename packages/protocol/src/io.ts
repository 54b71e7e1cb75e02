import { createReadStream } from "node:fs";
import type { Writable } from "node:stream";
import { CairnError, toCairnError } from "@cairn/errors";
import { FrameEncoder } from "./encode.js";
import { FrameType, MAGIC, frameTypeName, type Frame } from "./frames.js";
import { ByteReader } from "./reader.js";
import { UpstreamError, type ErrorMeta } from "./upstream.js";

/** stdin as an async iterable of chunks, read in large blocks. */
export function stdinChunks(): AsyncIterable<Uint8Array> {
  return createReadStream("", { fd: 0, highWaterMark: 1 << 20, autoClose: false });
}

/** Writes chunks to a stream, waiting for 'drain' so a slow reader slows the writer. */
export async function writeAll(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, out: Writable = process.stdout): Promise<void> {
  let failure: Error | undefined;
  const onError = (err: Error) => {
    failure = err;
  };
  out.on("error", onError);
  try {
    for await (const chunk of chunks) {
      if (failure) break;
      if (!out.write(chunk)) {
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

/** Pieces smaller than this are gathered into one write; larger ones go out as they are. */
const WRITE_BATCH = 256 * 1024;

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
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  function flush(): Uint8Array {
    const one = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    return one;
  }
  function* add(pieces: Uint8Array[]): Generator<Uint8Array> {
    for (const piece of pieces) {
      if (piece.length >= WRITE_BATCH) {
        if (pending.length) yield flush();
        yield piece;
      } else {
        pending.push(piece);
        pendingBytes += piece.length;
        if (pendingBytes >= WRITE_BATCH) yield flush();
      }
    }
  }
  async function* bytes(): AsyncGenerator<Uint8Array> {
    let end: Frame | undefined;
    try {
      for await (const frame of frames) {
        if (end) throw new CairnError("failed", `internal error: ${tool} produced a ${frameTypeName(frame.type)} frame after END`);
        if (frame.type === FrameType.END) end = frame;
        else yield* add(encoder.encode(frame));
      }
      if (!end) throw new CairnError("failed", `internal error: ${tool} ended its stream without an END frame`);
      yield* add(encoder.encode(end));
      if (pending.length) yield flush();
    } catch (err) {
      const e = toCairnError(err);
      if (!encoder.finished) {
        const meta: ErrorMeta = e instanceof UpstreamError ? e.origin : { tool, kind: e.kind, message: e.message };
        yield* add(encoder.encode({ type: FrameType.ERROR, meta }));
        if (pending.length) yield flush();
      }
      throw e;
    }
  }
  await writeAll(bytes(), out);
}

/**
 * Looks at the first bytes of an input to tell a cairn stream from raw bytes, without losing them.
 * Returns a reader positioned at the start either way.
 */
export async function sniff(source: AsyncIterable<Uint8Array>): Promise<{ framed: boolean; input: AsyncIterable<Uint8Array> }> {
  const reader = new ByteReader(source);
  const head = await reader.read(MAGIC.length);
  const framed = head.length === MAGIC.length && MAGIC.every((b, i) => head[i] === b);
  async function* replay(): AsyncGenerator<Uint8Array> {
    if (head.length) yield head;
    yield* reader.rest();
  }
  return { framed, input: replay() };
}
