// Reading stdin fast (docs/benchmarks/protocol.md). A pipe hands over at most 64 KiB per read;
// letting Node allocate a fresh buffer for each read, then copying every frame that spans reads
// into another fresh buffer, costs more CPU than the codec itself. So a pipe or socket is read
// straight into large slabs: reads land back to back, a frame that lies inside one slab is
// returned as a view of it (ByteReader joins adjacent views without copying), and memory is
// allocated once per slab rather than once per read. A regular file is read in slabs too.
//
// Releasing: a consumer that is done with every byte before a stream offset may say so
// (`release(offset)`; decodeFrames does with `borrow`), and the slabs that lie wholly before it
// are freed at once (their ArrayBuffers detached) instead of waiting for the garbage collector,
// which lets tens of megabytes of dead slabs pile up between its runs.
import { read as readFd, fstatSync } from "node:fs";
import { Socket } from "node:net";

/** An input whose consumed slabs can be freed early (see above). */
export interface ReleasableInput extends AsyncIterable<Uint8Array> {
  release?(offset: number): void;
}

const SLAB = 4 << 20;
/** A slab with less room than this left is retired (one pipe read fills at most 64 KiB). */
const MIN_READ = 64 << 10;
/** Reading pauses while this many bytes wait for the consumer: back-pressure to the writer. */
const QUEUE_LIMIT = 4 << 20;
/** Finished slabs remembered for release(); beyond this the oldest are left to the garbage collector. */
const RELEASABLE = 16;

/** Finished slabs and where in the stream each ends, freed once a consumer is past them. */
class Slabs {
  private done: { buffer: ArrayBuffer; end: number }[] = [];

  finished(buffer: ArrayBuffer, end: number): void {
    this.done.push({ buffer, end });
    if (this.done.length > RELEASABLE) this.done.shift();
  }

  release(offset: number): void {
    let n = 0;
    while (n < this.done.length && this.done[n].end <= offset) {
      const { buffer } = this.done[n++];
      if (!buffer.detached) buffer.transfer(0);
    }
    if (n > 0) this.done.splice(0, n);
  }
}

/**
 * stdin as an async iterable of chunks: a pipe or socket through pipeChunks, a regular file in
 * 4 MiB blocks (most frames then lie inside one block: no copy), anything else (a terminal)
 * through process.stdin. Takes over fd 0: use it, not process.stdin, for the stream.
 */
export function stdinChunks(): ReleasableInput {
  let kind: "pipe" | "file" | "other" = "other";
  try {
    const st = fstatSync(0);
    kind = st.isFIFO() || st.isSocket() ? "pipe" : st.isFile() ? "file" : "other";
  } catch {
    // No usable stdin descriptor: process.stdin reports that as it reads.
  }
  if (kind === "pipe") return pipeChunks(0);
  if (kind === "file") return fileChunks(0);
  return process.stdin;
}

/** A regular file's descriptor, read from its current position in slabs of SLAB bytes. */
export function fileChunks(fd: number): ReleasableInput {
  const slabs = new Slabs();
  let offset = 0;
  return {
    release: (at) => slabs.release(at),
    async *[Symbol.asyncIterator]() {
      // One slab is read ahead while the consumer works on the last one.
      const next = () => {
        const slab = Buffer.allocUnsafeSlow(SLAB);
        return new Promise<Buffer>((resolve, reject) => readFd(fd, slab, 0, SLAB, null, (err, n) => (err ? reject(err) : resolve(slab.subarray(0, n)))));
      };
      let ahead = next();
      ahead.catch(() => {}); // awaited below; if the consumer stops first, nobody will
      for (;;) {
        const chunk = await ahead;
        if (chunk.length === 0) return;
        ahead = next();
        ahead.catch(() => {});
        offset += chunk.length;
        slabs.finished(chunk.buffer as ArrayBuffer, offset);
        yield chunk;
      }
    },
  };
}

/** A pipe or socket descriptor, read into slabs (see above), with back-pressure. */
export function pipeChunks(fd: number): ReleasableInput {
  const slabs = new Slabs();
  return { release: (at) => slabs.release(at), [Symbol.asyncIterator]: () => readPipe(fd, slabs) };
}

async function* readPipe(fd: number, slabs: Slabs): AsyncGenerator<Uint8Array> {
  let slab = Buffer.allocUnsafeSlow(SLAB);
  let used = 0;
  let received = 0;
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
          slabs.finished(slab.buffer as ArrayBuffer, received);
          slab = Buffer.allocUnsafeSlow(SLAB);
          used = 0;
        }
        return slab.subarray(used);
      },
      callback: (n: number, buf: Uint8Array) => {
        queue.push(Buffer.from(buf.buffer, buf.byteOffset, n));
        used += n;
        received += n;
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
