import { createHash } from "node:crypto";
import { FrameType, type Frame, type EntryEndMeta } from "@cairn/protocol";

/** DATA frames carry about this much: large enough that per-frame costs vanish, small enough to stay flat. */
export const DATA_SIZE = 1 << 20;

const EMPTY_SHA256 = createHash("sha256").digest("hex");

/** ENTRY_END for an entry without content (directory, symlink, hard link). */
export function emptyEnd(partial?: string): Frame {
  const meta: EntryEndMeta = { size: 0, sha256: EMPTY_SHA256 };
  if (partial) meta.partial = partial;
  return { type: FrameType.ENTRY_END, meta };
}

/**
 * DATA frames for a byte source of unknown length (stdin, a command, a tar member), hashed on
 * the way. Small pieces are gathered into frames of DATA_SIZE (one copy), the last one shorter; large
 * ones are cut into DATA_SIZE views without a copy. Returns the ENTRY_END meta once the source ends.
 */
export async function* contentFrames(source: AsyncIterable<Uint8Array>): AsyncGenerator<Frame, EntryEndMeta> {
  const hash = createHash("sha256");
  let size = 0;
  let held: Uint8Array[] = [];
  let heldBytes = 0;
  const flush = (): Frame => {
    const data = held.length === 1 ? held[0] : Buffer.concat(held, heldBytes);
    held = [];
    heldBytes = 0;
    return { type: FrameType.DATA, data };
  };
  for await (const chunk of source) {
    if (chunk.length === 0) continue;
    hash.update(chunk);
    size += chunk.length;
    if (heldBytes === 0 && chunk.length >= DATA_SIZE) {
      yield* split(chunk);
      continue;
    }
    held.push(chunk);
    heldBytes += chunk.length;
    if (heldBytes >= DATA_SIZE) {
      // Whole frames go out; a tail shorter than a frame waits for more.
      const all = flush().data!;
      const whole = all.length - (all.length % DATA_SIZE);
      yield* split(all.subarray(0, whole));
      if (whole < all.length) {
        held.push(all.subarray(whole));
        heldBytes = all.length - whole;
      }
    }
  }
  if (heldBytes > 0) yield flush();
  return { size, sha256: hash.digest("hex") };
}

/** A frame's payload stays at most DATA_SIZE, whatever size the source hands over. */
function* split(data: Uint8Array): Generator<Frame> {
  for (let at = 0; at < data.length; at += DATA_SIZE) {
    yield { type: FrameType.DATA, data: data.subarray(at, at + DATA_SIZE) };
  }
}
