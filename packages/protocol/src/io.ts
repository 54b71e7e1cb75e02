import { createReadStream } from "node:fs";
import type { Writable } from "node:stream";
import { CairnError, toCairnError } from "@cairn/errors";
import { FrameEncoder } from "./encode.js";
import { FrameType, MAGIC, type Frame } from "./frames.js";
import { ByteReader } from "./reader.js";

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

/**
 * Encodes a stage's frames to a byte stream. If the stage throws, an ERROR frame goes out in
 * place of END (so downstream refuses to commit) and the error is rethrown for the exit code.
 */
export async function writeFrames(tool: string, frames: AsyncIterable<Frame>, out: Writable = process.stdout): Promise<void> {
  const encoder = new FrameEncoder();
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  async function* bytes(): AsyncGenerator<Uint8Array> {
    try {
      for await (const frame of frames) {
        for (const piece of encoder.encode(frame)) {
          // Coalesce small pieces so each write moves a useful amount.
          if (piece.length >= 256 * 1024) {
            if (pending.length) yield flush();
            yield piece;
          } else {
            pending.push(piece);
            pendingBytes += piece.length;
            if (pendingBytes >= 256 * 1024) yield flush();
          }
        }
      }
      if (pending.length) yield flush();
    } catch (err) {
      const e = toCairnError(err);
      if (e.kind !== "io" || !/broken pipe/.test(e.message)) {
        pending = [];
        pendingBytes = 0;
        yield* encoder.encode({ type: FrameType.ERROR, meta: { tool, kind: e.kind, message: e.message } });
      }
      throw e;
    }
  }
  function flush(): Uint8Array {
    const one = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    return one;
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
