// Frames ↔ bytes in tests, through the real protocol codec.
import { FrameDecoder, decodeFrames, encodeFrames, type Frame, type ReleasableInput } from "@cairn/protocol";

export async function encode(frames: Frame[]): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of encodeFrames(frames)) parts.push(p);
  return Buffer.concat(parts);
}

export async function decode(data: Uint8Array): Promise<Frame[]> {
  const out: Frame[] = [];
  for await (const f of decodeFrames((async function* () { yield data; })())) out.push(f);
  return out;
}

/**
 * An encoded stream as a releasable input (what stdinChunks gives) that delivers one buffer per
 * frame (as a pipe may deliver a writer's frame-aligned batches), and on release(offset)
 * overwrites every buffer wholly before the offset with 0xEE, then frees it: a view kept past
 * its release reads empty or wrong, never right by luck.
 */
export async function frameAlignedInput(frames: Frame[]): Promise<ReleasableInput & { buffers: Uint8Array[] }> {
  const whole = await encode(frames);
  const cuts = [8]; // the stream header, then each frame's end
  const decoder = new FrameDecoder((async function* () { yield whole; })());
  while (await decoder.next()) cuts.push(decoder.offset + 5 + decoder.length + 4);
  const buffers = cuts.map((end, i) => new Uint8Array(whole.subarray(i ? cuts[i - 1] : 0, end)));
  return {
    buffers,
    release(offset: number) {
      for (let i = 0; i < buffers.length && cuts[i] <= offset; i++) {
        if (buffers[i].buffer.detached) continue;
        buffers[i].fill(0xee);
        (buffers[i].buffer as ArrayBuffer).transfer(0);
      }
    },
    async *[Symbol.asyncIterator]() {
      yield* buffers;
    },
  };
}
