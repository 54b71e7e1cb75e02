import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import { CairnError } from "@cairn/errors";
import { FrameType, encodeName, stdinChunks, type EntryKind, type EntryMeta, type Frame } from "@cairn/protocol";
import { contentFrames, emptyEnd } from "./content.js";
import { unsafePathReason } from "./entry-path.js";
import { badMetadata } from "./read-entries.js";
import { endFrame, startFrame, type StartOptions } from "./start.js";

export interface TarOptions extends StartOptions {
  warn?: (message: string) => void;
}

/** Member types with no content to lose: skipped with a warning, as the walk skips them. */
const special = new Set(["character-device", "block-device", "fifo"]);

const kinds: Record<string, EntryKind> = {
  file: "file",
  "contiguous-file": "file",
  directory: "dir",
  symlink: "symlink",
  link: "hardlink",
};

/**
 * The raw bytes of a member's name. Names from the ustar header or a GNU long name are decoded
 * as latin1 (one char per byte), so any bytes survive; names from a pax record are UTF-8 by the
 * standard (tar-stream decodes them so; a pax name that is not UTF-8 is not kept exactly).
 */
function rawName(text: string, fromPax: boolean): Buffer {
  return Buffer.from(text, fromPax ? "utf8" : "latin1");
}

/** A member name as a stored entry path: "./" prefixes, leading "/" and trailing "/" dropped. */
function cleanName(raw: Buffer, what: string): Buffer | undefined {
  let s = raw.toString("latin1");
  s = s.replace(/^\/+/, "").replace(/\/+$/, "");
  while (s.startsWith("./")) s = s.slice(2).replace(/^\/+/, "");
  if (s === "." || s === "") return undefined;
  const out = Buffer.from(s, "latin1");
  const why = unsafePathReason(out);
  if (why) throw new CairnError("refused", `tar member ${what} "${encodeName(out).text}" is unsafe: ${why}`);
  return out;
}

/** pax mtime ("1700000000.123456789") → nanoseconds since the epoch as a decimal string. */
export function paxMtimeNs(value: string): string | undefined {
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(value.trim());
  if (!m) return undefined;
  const frac = (m[3] ?? "").slice(0, 9).padEnd(9, "0");
  const ns = BigInt(m[2]) * 1_000_000_000n + BigInt(frac);
  return (m[1] === "-" ? -ns : ns).toString();
}

/**
 * A pax uid or gid record (a decimal number: GNU tar writes one for an id above 07777777) → the
 * id; tar-stream applies only path, linkpath and size, and the header field then holds 0. A
 * record that is no number is NaN, which the entry check refuses.
 */
function paxId(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  return /^\d{1,15}$/.test(value) ? Number(value) : NaN;
}

/**
 * A header's mtime → nanoseconds since the epoch. A base-256 one beyond what a Date holds
 * (±8.64e15 ms) is beyond the ±10^21 ns of a plain stream too: 10^22 says so.
 */
function headerMtimeNs(date: Date | undefined): string {
  const ms = (date ?? new Date(0)).getTime();
  return Number.isNaN(ms) ? (10n ** 22n).toString() : (BigInt(ms) * 1_000_000n).toString();
}

/** A tar stream (stdin by default) → plain stream: files, directories, symlinks and hard links. */
export async function* snapshotTar(opts: TarOptions = {}, input: AsyncIterable<Uint8Array> = stdinChunks()): AsyncGenerator<Frame> {
  const warn = opts.warn ?? ((m: string) => process.stderr.write(`cairn-snapshot: ${m}\n`));
  const extract = tar.extract({ filenameEncoding: "latin1" } as Parameters<typeof tar.extract>[0]);
  const ended = noteEndOfArchive(extract);
  let bytes = 0;
  const counted = async function* () {
    for await (const chunk of input) {
      bytes += chunk.length;
      yield chunk;
    }
  };
  const feeding = pipeline(Readable.from(counted(), { objectMode: false }), extract).catch((err: Error) => err);
  let entries = 0;
  let partial = 0;
  yield startFrame(opts, "tar", "tar");
  try {
    for await (const member of extract) {
      const h = member.header;
      const pax = (h as { pax?: Record<string, string> }).pax ?? undefined;
      const kind = h.type ? kinds[h.type] : undefined;
      const name = cleanName(rawName(h.name, pax?.path !== undefined), "name");
      // A pax sparse file (GNU tar --format=posix --sparse) comes as a plain file member whose data
      // is the sparse map and the data blocks, under a made-up name: not the file's content.
      const sparse = pax !== undefined && Object.keys(pax).some((k) => k.startsWith("GNU.sparse."));
      if (!kind || !name || sparse) {
        if (sparse) {
          partial++;
          warn(`${pax?.["GNU.sparse.name"] ?? h.name}: skipped tar member of a type cairn cannot read (a pax sparse file); the snapshot is partial`);
        } else if (!kind && special.has(String(h.type))) {
          warn(`${h.name}: skipped tar member of type ${h.type} (not a file, directory or link)`);
        } else if (!kind) {
          // A member tar-stream cannot read (a GNU sparse file, say): its content is lost.
          partial++;
          warn(`${h.name}: skipped tar member of a type cairn cannot read; the snapshot is partial`);
        }
        member.resume();
        continue;
      }
      entries++;
      const shown = encodeName(name);
      if (pax?.path?.includes("\ufffd") || pax?.linkpath?.includes("\ufffd")) {
        warn(`${shown.text}: its pax name is not valid UTF-8; stored with U+FFFD in place of the bad bytes`);
      }
      const meta: EntryMeta = {
        kind,
        path: shown.text,
        mode: (h.mode ?? 0o644) & 0o7777,
        uid: paxId(pax?.uid) ?? h.uid ?? 0,
        gid: paxId(pax?.gid) ?? h.gid ?? 0,
        mtime: (pax?.mtime !== undefined ? paxMtimeNs(pax.mtime) : undefined) ?? headerMtimeNs(h.mtime),
      };
      if (shown.b64) meta.pathB64 = shown.b64;
      const uname = pax?.uname ?? h.uname;
      const gname = pax?.gname ?? h.gname;
      if (uname) meta.uname = uname;
      if (gname) meta.gname = gname;
      if (kind === "symlink" || kind === "hardlink") {
        let target = rawName(h.linkname ?? "", pax?.linkpath !== undefined);
        if (kind === "hardlink") {
          const clean = cleanName(target, "link target");
          if (!clean) throw new CairnError("refused", `tar member "${shown.text}" is a hard link to the archive root`);
          target = clean;
        } else if (target.length === 0 || target.includes(0)) {
          // (No file system makes one; snapshot -x refuses it, as it refuses what follows below.)
          throw new CairnError("stream", `tar member "${shown.text}" is a symlink with an empty target or one with a NUL byte: snapshot -x could not restore it`);
        }
        const t = encodeName(target);
        meta.target = t.text;
        if (t.b64) meta.targetB64 = t.b64;
      }
      if (kind === "file") meta.size = h.size ?? 0;
      // A tar can say what a plain stream cannot (a base-256 uid above 2^32, a pax mtime in the
      // year 10^14): refused here, since snapshot -x would refuse the entry, and the whole
      // restore with it, only when the backup is needed.
      const bad = badMetadata(meta);
      if (bad) throw new CairnError("stream", `tar member "${shown.text}" has ${bad}: snapshot -x could not restore it`);
      yield { type: FrameType.ENTRY, meta };
      if (kind === "file") {
        const end = yield* contentFrames(member as AsyncIterable<Uint8Array>);
        yield { type: FrameType.ENTRY_END, meta: end };
      } else {
        member.resume();
        yield emptyEnd();
      }
    }
  } catch (err) {
    throw tarError(err);
  }
  const failure = await feeding;
  if (failure) throw tarError(failure);
  // tar-stream ends quietly at the end of its input, wherever that is: a producer that died
  // before writing anything, or between two members, must not pass for a whole archive.
  if (bytes === 0) throw new CairnError("stream", "empty input: not a tar archive (the producer wrote nothing: did it fail?)");
  if (!ended()) {
    throw new CairnError("stream", "the tar stream ends without its end-of-archive blocks: it was cut off (did the producer die?)");
  }
  yield endFrame({ entries, partial, unverified: false });
}

function tarError(err: unknown): CairnError {
  if (err instanceof CairnError) return err;
  const msg = (err as Error).message ?? String(err);
  return new CairnError("stream", `not a valid tar stream: ${msg.replace(/\.$/, "")}`);
}

/**
 * Whether the archive's end-of-archive marker was read: a zero block where a header belongs, with
 * no member after it. tar-stream reads such a block as "no header" and reads on to the end of its
 * input, so this watches its header step (tar-stream 3's Extract._consumeHeader; package-lock.json
 * pins the version, and the cut-off archive tests fail if that changes). Zero bytes at the end of a
 * member's data are no marker: a producer that died in a run of zeros is still caught.
 */
function noteEndOfArchive(extract: tar.Extract): () => boolean {
  type Inner = { _consumeHeader?: () => boolean; _header: unknown };
  const inner = extract as unknown as Inner;
  const step = inner._consumeHeader;
  if (typeof step !== "function") throw new Error("tar-stream changed: Extract._consumeHeader is gone (see noteEndOfArchive)");
  let atEnd = false;
  inner._consumeHeader = function (this: Inner) {
    const read = step.call(this);
    if (read) atEnd = this._header === null; // a member after the marker (concatenated archives) resets it
    return read;
  };
  return () => atEnd;
}
