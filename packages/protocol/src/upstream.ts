import { CairnError } from "@cairn/errors";

/** What an ERROR frame carries (docs/protocol.md, "ERROR"). */
export interface ErrorMeta {
  tool: string;
  kind: string;
  message: string;
  [more: string]: unknown;
}

/**
 * An ERROR frame read from upstream, thrown by the decoder. It keeps the failing stage's own
 * report so that a stage passing it on (writeFrames) forwards that report unchanged: the last
 * tool of a pipeline names the stage that failed first, not every stage in between.
 */
export class UpstreamError extends CairnError {
  constructor(readonly origin: ErrorMeta) {
    super("upstream", `${origin.tool} failed: ${origin.message}`);
  }

  /** The ERROR frame's fields, read defensively: an upstream stage may be any implementation. */
  static fromMeta(meta: Record<string, unknown>): UpstreamError {
    const text = (v: unknown, fallback: string) => (typeof v === "string" && v.length > 0 ? v : fallback);
    return new UpstreamError({
      ...meta,
      tool: text(meta.tool, "an upstream stage"),
      kind: text(meta.kind, "failed"),
      message: text(meta.message, "no message"),
    });
  }
}
