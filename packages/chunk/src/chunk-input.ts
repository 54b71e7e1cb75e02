import { decodeFrames, sniff, type Frame } from "@cairn/protocol";
import { chunkStream, type ChunkOptions } from "./chunk-stream.js";
import { rawToPlain } from "./raw-input.js";

/**
 * What `cairn chunk` does with its stdin: a cairn stream is decoded and chunked; raw bytes (no
 * magic) become one entry named `name` (default "stdin"), marked completeness unverified.
 */
export async function* chunkInput(input: AsyncIterable<Uint8Array>, opts: ChunkOptions & { name?: string }): AsyncGenerator<Frame> {
  const { framed, input: bytes } = await sniff(input);
  yield* chunkStream(framed ? decodeFrames(bytes) : rawToPlain(bytes, opts.name ?? "stdin"), opts);
}
