// Recycled pack buffers: a pack's buffer goes back to the pool once its PUT has finished, so a
// push touches the same few buffers instead of faulting in and collecting a new one per pack.

export class BufferPool {
  private free: Buffer[] = [];

  constructor(private readonly keep: number) {}

  take(size: number): Buffer {
    const i = this.free.findIndex((b) => b.length >= size);
    if (i >= 0) return this.free.splice(i, 1)[0];
    return Buffer.allocUnsafe(size);
  }

  give(bytes: Uint8Array): void {
    const whole = Buffer.from(bytes.buffer, 0, bytes.buffer.byteLength);
    if (this.free.length < this.keep && whole.byteOffset === 0 && whole.length >= 1 << 20) this.free.push(whole);
  }
}
