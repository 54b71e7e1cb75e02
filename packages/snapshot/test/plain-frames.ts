// Plain-stream frames for the extraction tests, made by hand.
import { createHash } from "node:crypto";
import { FrameType, type Frame } from "@cairn/protocol";

export const sha = (s: string) => createHash("sha256").update(s).digest("hex");
export const START: Frame = { type: FrameType.START, meta: { stream: "plain", host: "h", time: "t", label: "l", tags: [] } };
export const END: Frame = { type: FrameType.END, meta: { entries: 0, partial: 0, unverified: false } };
export const MTIME = "1700000000123456789";
export const entry = (meta: Record<string, unknown>): Frame => ({ type: FrameType.ENTRY, meta: { mode: 0o644, mtime: MTIME, ...meta } });
export const endOf = (content: string): Frame => ({ type: FrameType.ENTRY_END, meta: { size: Buffer.byteLength(content), sha256: sha(content) } });
export const file = (path: string, content: string, meta: Record<string, unknown> = {}): Frame[] => [
  entry({ kind: "file", path, ...meta }),
  { type: FrameType.DATA, data: Buffer.from(content) },
  endOf(content),
];
export const dirEntry = (path: string, meta: Record<string, unknown> = {}): Frame[] => [entry({ kind: "dir", path, mode: 0o755, ...meta })];
