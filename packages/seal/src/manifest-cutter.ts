// Where the manifest is cut into chunks (docs/sealing.md, "Manifest chunks"). Cuts fall only
// between records, and depend only on the manifest's own content since the previous cut, so
// an unchanged stretch of a tree gives identical manifest chunks in every snapshot:
//   - after a chunk record whose id's first byte is < 8 (about every 32 data chunks),
//   - after a record in which FastCDC (small parameters, the chunker secret's gear) finds a cut,
//   - after a record that brings the plaintext described since the last cut to HELD_CAP bytes.
// `seal` holds sealed data back until the manifest chunk describing it is out, so the last
// rule is what bounds its memory.
import { FastCdc } from "@cairn/chunk";
import { RecordTag } from "./manifest.js";

export const MANIFEST_CDC = { min: 16 * 1024, avg: 64 * 1024, max: 256 * 1024 } as const;
export const ID_CUT_BELOW = 8;
export const HELD_CAP = 16 * 1024 * 1024;

export class ManifestCutter {
  private readonly cdc: FastCdc;
  private pieces: Uint8Array[] = [];
  private length = 0;
  private described = 0;

  constructor(chunkerSecret: Uint8Array) {
    this.cdc = new FastCdc(chunkerSecret, MANIFEST_CDC);
  }

  /** Plaintext bytes of data chunks described since the last cut. */
  get describedBytes(): number {
    return this.described;
  }

  /** Appends one record; returns the finished manifest chunk when a cut falls right after it. */
  append(record: Uint8Array): Uint8Array | undefined {
    this.pieces.push(record);
    this.length += record.length;
    let cut = this.cdc.push(record).length > 0;
    if (record[0] === RecordTag.CHUNK) {
      this.described += new DataView(record.buffer, record.byteOffset + 5 + 32, 4).getUint32(0);
      if (record[5] < ID_CUT_BELOW) cut = true;
      if (this.described >= HELD_CAP) cut = true;
    }
    return cut ? this.take() : undefined;
  }

  /** The last manifest chunk (whatever follows the last cut), or undefined if empty. */
  finish(): Uint8Array | undefined {
    return this.length ? this.take() : undefined;
  }

  private take(): Uint8Array {
    const out = Buffer.concat(this.pieces, this.length);
    this.pieces = [];
    this.length = 0;
    this.described = 0;
    this.cdc.finish();
    return out;
  }
}
