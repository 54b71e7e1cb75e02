// Reading stdin fast (docs/benchmarks/protocol.md). A pipe hands over at most 64 KiB per read;
// letting Node allocate a fresh buffer for each read, then copying every frame that spans reads
// into another fresh buffer, costs more CPU than the codec itself. So a pipe or socket is read
// straight into large slabs: reads land back to back, a frame that lies inside one slab is
// returned as a view of it (ByteReader joins adjacent views without copying), and memory is
// allocated once per slab rather than once per read.
import { createReadStream, fstatSync } from "node:fs";
import { Socket } from "node:net";

const SLAB = 4 << 20;
/** A slab with less room than this left is retired (one pipe read fills at most 64 KiB). */
const MIN_READ = 64 << 10;
/** Reading pauses while this many bytes wait for the consumer: back-pressure to the writer. */
const QUEUE_LIMIT = 4 << 20;

/**
 * stdin as an async iterable of chunks: a pipe or socket through pipeChunks, a regular file in
 * 4 MiB blocks (most frames then lie inside one block: no copy), anything else (a terminal)
 * through process.stdin. Takes over fd 0: use it, not process.stdin, for the stream.
 */
export function stdinChunks(): AsyncIterable<Uint8Array> {
  let kind: "pipe" | "file" | "other" = "other";
  try {
    const st = fstatSync(0);
    kind = st.isFIFO() || st.isSocket() ? "pipe" : st.isFile() ? "file" : "other";
  } catch {
    // No usable stdin descriptor: process.stdin reports that as it reads.
  }
  if (kind === "pipe") return pipeChunks(0);
  if (kind === "file") return createReadStream("", { fd: 0, highWaterMark: SLAB, autoClose: false });
  return process.stdin;
}

/** A pipe or socket descriptor, read into slabs (see above), with back-pressure. */
export async function* pipeChunks(fd: number): AsyncGenerator<Uint8Array> {
  let slab = Buffer.allocUnsafeSlow(SLAB);
  let used = 0;
  const queue: Buffer[] = [];
  let head = 0;
  let queued = 0;
  let paused = false;
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;

  const socket = new Socket({
    fd,
    readable: true,
    writable: false,
    onread: {
      buffer: () => {
        if (SLAB - used < MIN_READ) {
          slab = Buffer.allocUnsafeSlow(SLAB);
          used = 0;
        }
        return slab.subarray(used);
      },
      callback: (n: number, buf: Uint8Array) => {
        queue.push(Buffer.from(buf.buffer, buf.byteOffset, n));
        used += n;
        queued += n;
        wake?.();
        if (queued >= QUEUE_LIMIT) {
          paused = true;
          return false;
        }
        return true;
      },
    },
  });
  socket.on("end", () => {
    ended = true;
    wake?.();
  });
  socket.on("error", (err) => {
    failure = err;
    wake?.();
  });

  try {
    for (;;) {
      if (head < queue.length) {
        const chunk = queue[head];
        queue[head++] = undefined as unknown as Buffer;
        if (head > 1024) {
          queue.splice(0, head);
          head = 0;
        }
        queued -= chunk.length;
        if (paused && queued < QUEUE_LIMIT / 2) {
          paused = false;
          socket.resume();
        }
        yield chunk;
        continue;
      }
      if (failure) throw failure;
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    socket.destroy();
  }
}
