import { createHash, type Hash } from "node:crypto";
import { CairnError, printable } from "@cairn/errors";
import { FrameType, encodeName, frameTypeName, type EndMeta, type EntryEndMeta, type EntryMeta, type Frame, type StartMeta } from "@cairn/protocol";
import { unsafePathReason } from "./entry-path.js";

/** One entry of a plain stream, as the extractors see it. */
export interface Entry {
  meta: EntryMeta;
  /** The raw bytes of the path, checked safe (relative, no "." or ".." component). */
  path: Buffer;
  /** symlink: the target's raw bytes; hardlink: the linked entry's path, checked safe. */
  target?: Buffer;
}

/**
 * Reads a plain stream entry by entry: `next()` gives each ENTRY (skipping the rest of the
 * previous one), `content()` its DATA, and `finish()` checks the content against ENTRY_END.
 * Paths are checked here, once, for every extractor: an unsafe one is refused.
 */
export class EntryReader {
  start?: StartMeta;
  end?: EndMeta;
  private readonly it: AsyncIterator<Frame>;
  private peeked?: Frame;
  private current?: Entry;
  private inContent = false;
  private hash?: Hash;
  private size = 0;
  private frameNo = 0;

  constructor(frames: AsyncIterable<Frame>) {
    this.it = frames[Symbol.asyncIterator]();
  }

  private async pull(): Promise<Frame> {
    if (this.peeked) {
      const f = this.peeked;
      this.peeked = undefined;
      return f;
    }
    const r = await this.it.next();
    if (r.done) throw new CairnError("stream", `stream ended without an end frame after ${this.frameNo} frames`);
    this.frameNo++;
    return r.value;
  }

  private unexpected(f: Frame, wanted: string): CairnError {
    return new CairnError("stream", `frame #${this.frameNo} is ${frameTypeName(f.type)} where ${wanted} was expected`);
  }

  /** The next entry, or undefined once END has been read. */
  async next(): Promise<Entry | undefined> {
    if (!this.start) {
      const f = await this.pull();
      if (f.type !== FrameType.START) throw this.unexpected(f, "START");
      const kind = f.meta!.stream;
      if (kind !== "plain") {
        const hint = kind === "chunked" ? " (run it through `cairn chunk -d` first)" : kind === "sealed" ? " (run it through `cairn seal -d` and `cairn chunk -d` first)" : "";
        throw new CairnError("stream", `snapshot -x reads a plain stream, this one is ${JSON.stringify(kind)}${hint}`);
      }
      this.start = f.meta as StartMeta;
    }
    if (this.current) await this.skipRest();
    const f = await this.pull();
    if (f.type === FrameType.END) {
      this.end = f.meta as EndMeta;
      return undefined;
    }
    if (f.type !== FrameType.ENTRY) throw this.unexpected(f, "ENTRY or END");
    const meta = f.meta as EntryMeta;
    if (typeof meta.path !== "string") throw new CairnError("stream", `frame #${this.frameNo}: an ENTRY without a path`);
    const shownPath = printable(meta.path);
    const path = strictName(meta.path, meta.pathB64);
    if (!path) throw new CairnError("stream", `entry "${shownPath}": its pathB64 is not the raw form of its path`);
    const why = unsafePathReason(path);
    if (why) throw new CairnError("refused", `refusing entry "${shownPath}": ${why}`);
    if (!["file", "dir", "symlink", "hardlink"].includes(meta.kind)) throw new CairnError("stream", `entry "${shownPath}" has unknown kind ${printable(JSON.stringify(meta.kind))}`);
    const bad = badMetadata(meta);
    if (bad) throw new CairnError("stream", `entry "${shownPath}" has ${bad}`);
    const entry: Entry = { meta, path };
    if (meta.kind === "symlink" || meta.kind === "hardlink") {
      if (typeof meta.target !== "string") throw new CairnError("stream", `${meta.kind} "${shownPath}" has no target`);
      const target = strictName(meta.target, meta.targetB64);
      if (!target) throw new CairnError("stream", `${meta.kind} "${shownPath}": its targetB64 is not the raw form of its target`);
      if (target.length === 0 || target.includes(0)) throw new CairnError("stream", `${meta.kind} "${shownPath}" has an empty target or one with a NUL byte`);
      entry.target = target;
      if (meta.kind === "hardlink") {
        const unsafe = unsafePathReason(target);
        if (unsafe) throw new CairnError("refused", `refusing hard link "${shownPath}" to "${printable(meta.target)}": ${unsafe}`);
      }
    }
    this.current = entry;
    this.inContent = true;
    this.hash = meta.kind === "file" ? createHash("sha256") : undefined;
    this.size = 0;
    return entry;
  }

  /** The current entry's content, hashed as it goes. Ends at its ENTRY_END. */
  async *content(): AsyncGenerator<Uint8Array> {
    for await (const f of this.contentFrames()) yield f.data!;
  }

  /** content() as its DATA frames, for a writer that frees memory handed over with them (Frame.dispose). */
  async *contentFrames(): AsyncGenerator<Frame> {
    while (this.inContent) {
      const f = await this.pull();
      if (f.type === FrameType.DATA) {
        if (this.current?.meta.kind !== "file") throw new CairnError("stream", `${this.current?.meta.kind} "${this.current?.meta.path}" carries data`);
        this.hash!.update(f.data!);
        this.size += f.data!.length;
        yield f;
        continue;
      }
      this.peeked = f;
      return;
    }
  }

  /**
   * Reads to the entry's ENTRY_END and checks size and SHA-256; returns ENTRY_END's meta.
   * A file entry must have one; other kinds may omit it.
   */
  async finish(): Promise<EntryEndMeta | undefined> {
    for await (const _ of this.content());
    const entry = this.current!;
    this.current = undefined;
    this.inContent = false;
    const f = await this.pull();
    if (f.type !== FrameType.ENTRY_END) {
      if (entry.meta.kind !== "file") {
        this.peeked = f;
        return undefined;
      }
      throw this.unexpected(f, `ENTRY_END of "${entry.meta.path}"`);
    }
    const end = f.meta as EntryEndMeta;
    if (entry.meta.kind === "file") {
      const sha = this.hash!.digest("hex");
      if (end.size !== this.size) throw new CairnError("integrity", `"${entry.meta.path}": ${this.size} bytes arrived, its entry end says ${end.size}`);
      if (end.sha256 !== sha) throw new CairnError("integrity", `"${entry.meta.path}": content does not match its SHA-256 (got ${sha.slice(0, 16)}…, expected ${String(end.sha256).slice(0, 16)}…)`);
    }
    return end;
  }

  /** What a restore should say about the stream as a whole once END is read. */
  endWarnings(): string[] {
    const out: string[] = [];
    const partial = typeof this.end?.partial === "number" ? this.end.partial : 0;
    if (partial > 0) out.push(`the snapshot is partial: ${partial} ${partial === 1 ? "entry" : "entries"} could not be read completely when it was taken`);
    if (this.end?.unverified) out.push("the snapshot's completeness is unverified (it was taken from raw stdin, whose end cannot prove the data complete)");
    return out;
  }

  private async skipRest(): Promise<void> {
    await this.finish();
  }
}

/**
 * The raw bytes of a name: `text` as UTF-8, or the bytes of `b64`, which must be exactly what
 * encodeName writes for a name that is not UTF-8, lossy `text` included. So the path that
 * listings, --include and messages show is always the one written (undefined: they disagree).
 */
function strictName(text: string, b64: unknown): Buffer | undefined {
  if (b64 === undefined) return Buffer.from(text, "utf8");
  if (typeof b64 !== "string") return undefined;
  const raw = Buffer.from(b64, "base64");
  const again = encodeName(raw);
  return again.b64 === b64 && again.text === text ? raw : undefined;
}

const MAX_ID = 0xffffffff;
/** ±10^21 ns (±31 700 years): far beyond any file system's dates, within what utimes can take. */
const NS_LIMIT = 10n ** 21n;

/**
 * What is wrong with an entry's mode, mtime or owner (a writer never emits it), or undefined.
 * `snapshot --tar` asks too, so that it never writes an entry that a restore refuses.
 */
export function badMetadata(meta: EntryMeta): string | undefined {
  if (!Number.isInteger(meta.mode) || meta.mode < 0 || meta.mode > 0o7777) return "no valid mode (an integer 0…07777)";
  // Only a hint (ENTRY_END.size is the truth), but --tar writes it into the member's header.
  if (meta.size !== undefined && !(Number.isSafeInteger(meta.size) && meta.size >= 0)) return "no valid size (a whole number of bytes)";
  if (typeof meta.mtime !== "string" || !/^-?\d+$/.test(meta.mtime)) return "no valid mtime (nanoseconds as a decimal string)";
  // More than 22 digits is out of range: no BigInt of a long string.
  if (meta.mtime.replace(/^-/, "").length > 22) return "an mtime out of range";
  const ns = BigInt(meta.mtime);
  if (ns >= NS_LIMIT || ns < -NS_LIMIT) return "an mtime out of range";
  for (const k of ["uid", "gid"] as const) {
    const v = meta[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > MAX_ID)) return `no valid ${k}`;
  }
  for (const k of ["uname", "gname"] as const) {
    if (meta[k] !== undefined && typeof meta[k] !== "string") return `no valid ${k}`;
  }
  return undefined;
}
