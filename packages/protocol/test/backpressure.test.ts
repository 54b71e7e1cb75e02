import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { FrameType, writeFrames, type Frame } from "@cairn/protocol";

describe("back-pressure", () => {
  it("a slow consumer bounds how far writeFrames runs ahead of it", async () => {
    const frameSize = 64 * 1024;
    const total = 16 * 1024 * 1024;
    let produced = 0;
    let consumed = 0;
    let maxLead = 0;

    // A sink that takes each write only on a later turn of the event loop, with a small buffer.
    const sink = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _enc, done) {
        setImmediate(() => {
          consumed += chunk.length;
          done();
        });
      },
    });

    async function* producer(): AsyncGenerator<Frame> {
      yield { type: FrameType.START, meta: { stream: "plain" } };
      while (produced < total) {
        maxLead = Math.max(maxLead, produced - consumed);
        produced += frameSize;
        yield { type: FrameType.DATA, data: new Uint8Array(frameSize) };
      }
      yield { type: FrameType.END, meta: {} };
    }

    await writeFrames("t", producer(), sink);
    await new Promise<void>((resolve) => sink.end(resolve));
    expect(consumed).toBeGreaterThan(total);
    // Generated minus consumed stays within the write batch (256 KiB), one frame, and the sink's buffer.
    expect(maxLead).toBeLessThanOrEqual(256 * 1024 + 2 * frameSize + 16 * 1024);
  });
});
