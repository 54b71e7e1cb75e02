import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { CairnError } from "@cairn/errors";
import { FrameType, UpstreamError, decodeFrames, writeFrames, type Frame } from "@cairn/protocol";
import { collect, decodeAll } from "./helpers.js";

const start: Frame = { type: FrameType.START, meta: { stream: "plain", host: "h", time: "t", label: "l", tags: [] } };
const data = (n: number): Frame => ({ type: FrameType.DATA, data: new Uint8Array(n).fill(7) });
const end: Frame = { type: FrameType.END, meta: { entries: 0 } };

/** Runs writeFrames into memory; returns what it wrote and how it finished. */
async function run(tool: string, frames: AsyncIterable<Frame>) {
  const out = new PassThrough();
  const bytes = collect(out);
  let thrown: unknown;
  await writeFrames(tool, frames, out).catch((err) => (thrown = err));
  out.end();
  return { bytes: await bytes, thrown };
}

async function* stage(frames: Frame[], failAfter?: number, failure: Error = new CairnError("io", "disk on fire")) {
  let n = 0;
  for (const f of frames) {
    if (n++ === failAfter) throw failure;
    yield f;
  }
  if (failAfter !== undefined && failAfter >= frames.length) throw failure;
}

describe("writeFrames", () => {
  it("writes a stream that decodes back to the same frames, END counted", async () => {
    const { bytes, thrown } = await run("t", stage([start, data(10), data(300_000), data(5), end]));
    expect(thrown).toBeUndefined();
    const got = await decodeAll(bytes);
    expect(got.error).toBeUndefined();
    expect(got.frames.map((f) => f.type)).toEqual([FrameType.START, FrameType.DATA, FrameType.DATA, FrameType.DATA, FrameType.END]);
    expect(got.frames[4].meta).toMatchObject({ entries: 0, frames: 4, bytes: Buffer.byteLength(JSON.stringify(start.meta)) + 10 + 300_000 + 5 });
  });

  it("sends an ERROR frame instead of END when the stage fails, and rethrows", async () => {
    const { bytes, thrown } = await run("cairn-snapshot", stage([start, data(10), end], 2));
    expect((thrown as CairnError).kind).toBe("io");
    const got = await decodeAll(bytes);
    expect(got.frames.map((f) => f.type)).toEqual([FrameType.START, FrameType.DATA]);
    expect(got.error).toBeInstanceOf(UpstreamError);
    expect(got.error!.kind).toBe("upstream");
    expect(got.error!.message).toBe("cairn-snapshot failed: disk on fire");
    expect((got.error as UpstreamError).origin).toMatchObject({ tool: "cairn-snapshot", kind: "io", message: "disk on fire" });
  });

  it("sends a readable ERROR even when the stage fails before its first frame", async () => {
    const { bytes } = await run("cairn-chunk", stage([start, end], 0, new CairnError("key", "writer key not found")));
    const got = await decodeAll(bytes);
    expect(got.frames).toEqual([]);
    expect(got.error!.message).toBe("cairn-chunk failed: writer key not found");
  });

  it("holds END back until the stage finishes, so a stage failing after END sends ERROR instead", async () => {
    const { bytes, thrown } = await run("t", stage([start, end], 2));
    expect(thrown).toBeInstanceOf(CairnError);
    const got = await decodeAll(bytes);
    expect(got.frames.map((f) => f.type)).toEqual([FrameType.START]);
    expect(got.error!.kind).toBe("upstream");
  });

  it("refuses a stage that ends without END", async () => {
    const { bytes, thrown } = await run("t", stage([start, data(1)]));
    expect((thrown as CairnError).message).toContain("ended its stream without an END frame");
    expect((await decodeAll(bytes)).error!.message).toContain("without an END frame");
  });

  it("refuses a frame after END", async () => {
    const { bytes, thrown } = await run("t", stage([start, end, data(1)]));
    expect((thrown as CairnError).message).toContain("DATA frame after END");
    expect((await decodeAll(bytes)).error!.kind).toBe("upstream");
  });

  it("passes an upstream ERROR on as the failing stage reported it", async () => {
    const first = await run("cairn-snapshot", stage([start, data(3), end], 2, new CairnError("command", "pg_dump exited with status 1")));
    async function* middle() {
      for await (const f of decodeFrames((async function* () { yield first.bytes; })())) yield f;
    }
    const second = await run("cairn-chunk", middle());
    expect((second.thrown as CairnError).kind).toBe("upstream");
    const got = await decodeAll(second.bytes);
    expect(got.error!.message).toBe("cairn-snapshot failed: pg_dump exited with status 1");
    expect((got.error as UpstreamError).origin.kind).toBe("command");
  });

  it("turns an encoder refusal (a stage bug) into an ERROR frame", async () => {
    const { bytes, thrown } = await run("t", stage([start, { type: FrameType.CHUNK, data: new Uint8Array(5) }, end]));
    expect((thrown as CairnError).message).toBe("internal error: tried to write a CHUNK frame of 5 bytes, shorter than a 32-byte chunk id");
    expect((await decodeAll(bytes)).error!.kind).toBe("upstream");
  });

  it("reports a closed output as a broken pipe (io)", async () => {
    const out = new PassThrough({ highWaterMark: 1024 });
    async function* forever() {
      yield start;
      for (;;) yield data(4096);
    }
    out.once("data", () => out.destroy(Object.assign(new Error("write EPIPE"), { code: "EPIPE" })));
    const err = await writeFrames("t", forever(), out).catch((e) => e);
    expect(err).toBeInstanceOf(CairnError);
    expect(err.kind).toBe("io");
    expect(err.message).toContain("broken pipe");
  });
});
