// One output frame in its place in the stream: ready now, or when its worker finishes. Stages
// queue slots in order and yield each when it is ready, so workers run ahead without reordering.
import type { Frame } from "@cairn/protocol";

export class Slot {
  private frame: Frame | undefined;
  error: unknown;
  readonly done: Promise<void>;

  /** `dispose`: the payload's memory goes with the frame (Frame.dispose: the writer frees it). */
  constructor(source: Frame | { type: number; payload: Promise<Uint8Array>; dispose?: boolean }) {
    if ("payload" in source) {
      this.done = source.payload.then(
        (data) => {
          this.frame = source.dispose ? { type: source.type, data, dispose: true } : { type: source.type, data };
        },
        (err) => {
          this.error = err;
        },
      );
    } else {
      this.frame = source;
      this.done = Promise.resolve();
    }
  }

  get settled(): boolean {
    return this.frame !== undefined || this.error !== undefined;
  }

  async take(): Promise<Frame> {
    await this.done;
    if (this.error !== undefined) throw this.error;
    return this.frame!;
  }
}
