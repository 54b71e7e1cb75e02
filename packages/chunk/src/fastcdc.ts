import { deriveGear } from "./gear.js";
import { DEFAULT_PARAMS, checkParams, masksFor, type ChunkerParams } from "./params.js";

/**
 * FastCDC with normalized chunking (level 2) over a keyed 32-bit gear hash, as docs/chunking.md
 * specifies it. Incremental and synchronous: feed an entry's bytes with push() in pieces of any
 * size, get back where chunks end; call finish() at the end of the entry. Cut points depend only on
 * the bytes and the secret, never on how the input was split into pieces.
 */
export class FastCdc {
  readonly params: Readonly<ChunkerParams>;
  private readonly gear: Int32Array;
  private readonly min: number;
  private readonly normal: number;
  private readonly max: number;
  private readonly maskS: number;
  private readonly maskL: number;
  /** Bytes in the current, unfinished chunk. */
  private length = 0;
  private fp = 0;

  constructor(secret: Uint8Array, params: Partial<ChunkerParams> = {}) {
    this.params = Object.freeze(checkParams({ ...DEFAULT_PARAMS, ...params }));
    const masks = masksFor(this.params);
    this.gear = deriveGear(secret);
    this.min = this.params.min;
    this.normal = masks.normal;
    this.max = this.params.max;
    this.maskS = masks.maskS;
    this.maskL = masks.maskL;
  }

  /** Bytes pushed since the last cut: the size of the chunk in progress. */
  get pending(): number {
    return this.length;
  }

  /**
   * Feeds the next bytes of the entry. Returns the offsets in `bytes` at which a chunk ends
   * (exclusive, ascending): the chunk in progress ends just before each. Bytes after the last
   * offset start the next chunk.
   */
  push(input: Uint8Array): number[] {
    // One concrete array type in the hot loop: a Buffer here and a Uint8Array there would make
    // the element loads polymorphic and the hash several times slower. The loop lives in this
    // function (not a helper) so V8 optimises it on the spot (OSR) instead of inlining a helper
    // into a less optimised caller.
    const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    const gear = this.gear;
    const min = this.min;
    const normal = this.normal;
    const max = this.max;
    const n = bytes.length;
    const cuts: number[] = [];
    let length = this.length;
    let fp = this.fp;
    let i = 0;
    while (i < n) {
      if (length < min) {
        // Skip-min: the first min bytes of a chunk cannot hold a cut, so they are not hashed.
        const take = Math.min(min - length, n - i);
        i += take;
        length += take;
        continue;
      }
      const start = i - length; // where the chunk in progress began, relative to bytes (may be < 0)
      const mask = length < normal ? this.maskS : this.maskL;
      const stop = Math.min(start + (length < normal ? normal : max), n);
      let hit = -1;
      for (; i < stop; i++) {
        fp = ((fp << 1) + gear[bytes[i]]) | 0;
        if ((fp & mask) === 0) {
          hit = i;
          break;
        }
      }
      if (hit >= 0) {
        i = hit + 1;
      } else {
        length = i - start;
        if (length < max) continue;
      }
      cuts.push(i);
      length = 0;
      fp = 0;
    }
    this.length = length;
    this.fp = fp;
    return cuts;
  }

  /** Ends the entry: returns the size of its last chunk (0 if none is in progress) and resets. */
  finish(): number {
    const last = this.length;
    this.length = 0;
    this.fp = 0;
    return last;
  }
}

/** The sizes of the chunks of one whole buffer (the last may be shorter than min). */
export function chunkSizes(secret: Uint8Array, data: Uint8Array, params: Partial<ChunkerParams> = {}): number[] {
  const cdc = new FastCdc(secret, params);
  const sizes: number[] = [];
  let start = 0;
  for (const cut of cdc.push(data)) {
    sizes.push(cut - start);
    start = cut;
  }
  const last = cdc.finish();
  if (last > 0) sizes.push(last);
  return sizes;
}
