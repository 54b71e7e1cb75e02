import { createHash } from "node:crypto";

const BATCH = 4608; // 512 frames' framing bytes per hash update

/**
 * END's digest (docs/protocol.md, section 3): SHA-256 over the header, then each frame's 5-byte
 * prefix and 4-byte CRC. The 9 bytes per frame are gathered and hashed in batches, because one
 * hash update per small frame costs more than hashing itself.
 */
export class StreamDigest {
  private readonly hash = createHash("sha256");
  private readonly batch = Buffer.allocUnsafeSlow(BATCH);
  private used = 0;

  /** Hashes bytes that are not a frame's framing (the header). */
  addHeader(header: Uint8Array): void {
    this.flush();
    this.hash.update(header);
  }

  /** Adds one frame's prefix (type and length) and CRC. */
  addFrame(prefix: Uint8Array, crc: Uint8Array): void {
    if (this.used + 9 > BATCH) this.flush();
    this.batch.set(prefix, this.used);
    this.batch.set(crc, this.used + 5);
    this.used += 9;
  }

  /** The digest of everything added, as lower-case hex (the digest cannot be extended after). */
  hex(): string {
    this.flush();
    return this.hash.digest("hex");
  }

  private flush(): void {
    if (this.used === 0) return;
    this.hash.update(this.batch.subarray(0, this.used));
    this.used = 0;
  }
}
