import { decodeFrames, sniff, type Frame, type ReleasableInput } from "@cairn/protocol";
import { chunkStream, type ChunkOptions } from "./chunk-stream.js";
import { rawToPlain } from "./raw-input.js";

/**
 * What `cairn chunk` does with its stdin: a cairn stream is decoded and chunked; raw bytes (no
 * magic) become one entry named `name` (default "stdin"), marked completeness unverified.
 */
export async function* chunkInput(input: ReleasableInput, opts: ChunkOptions & { name?: string }): AsyncGenerator<Frame> {
  const { framed, input: bytes } = await sniff(input);
  // chunkStream copies DATA as it arrives, so the input's slabs can be freed as soon as it is past them.
  yield* chunkStream(framed ? decodeFrames(bytes, { borrow: true }) : rawToPlain(bytes, opts.name ?? "stdin"), opts);
}
