import { hostname } from "node:os";
import { FrameType, type Frame, type StartMeta, type EndMeta } from "@cairn/protocol";

/** What every snapshot source accepts about the snapshot as a whole. */
export interface StartOptions {
  /** Defaults to os.hostname(). */
  host?: string;
  /** Defaults to now. */
  time?: Date;
  /** Source label that retention groups by; each source has its own default. */
  label?: string;
  tags?: string[];
}

export function startFrame(opts: StartOptions, defaultLabel: string, source: string): Frame {
  const meta: StartMeta = {
    stream: "plain",
    host: opts.host ?? hostname(),
    time: (opts.time ?? new Date()).toISOString(),
    label: opts.label ?? defaultLabel,
    tags: opts.tags ?? [],
    source,
  };
  return { type: FrameType.START, meta };
}

export function endFrame(meta: EndMeta): Frame {
  return { type: FrameType.END, meta };
}
