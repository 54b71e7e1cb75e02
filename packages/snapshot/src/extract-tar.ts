import { createReadStream } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tar from "tar-stream";

type HeaderArgument = Parameters<tar.Pack["entry"]>[0];
import { CairnError, printable } from "@cairn/errors";
import { encodeName, type Frame } from "@cairn/protocol";
import { PathFilter } from "./glob.js";
import { EntryReader, type Entry } from "./read-entries.js";
import { trackTemp, untrackTemp } from "./temp-files.js";
import { gnuLongName, paxMember, paxMtime } from "./tar-members.js";
import type { ExtractOptions } from "./extract-dir.js";

type TarType = "file" | "directory" | "symlink" | "link";
const types: Record<string, TarType> = { file: "file", dir: "directory", symlink: "symlink", hardlink: "link" };
const PLACEHOLDER = "cairn-binary-name";
const typeBits: Record<string, number> = { file: 0o100000, hardlink: 0o100000, dir: 0o040000, symlink: 0o120000 };

function isUtf8(raw: Uint8Array): boolean {
  return encodeName(raw).b64 === undefined;
}

/**
 * Plain stream → a standard tar stream (pax: exact mtimes and long names; GNU long names for
 * names that are not valid UTF-8).
 * A file's size must be in the tar header before its data: entries that carry it (from
 * `snapshot` of paths or of a tar) stream straight through; entries without it (stdin, a
 * command) are spooled to a temporary file first. A file whose SHA-256 does not check stops the
 * stream with an "integrity" error before the end-of-archive blocks, so `tar -x` fails too.
 */
export async function* extractToTar(frames: AsyncIterable<Frame>, opts: Pick<ExtractOptions, "include" | "warn"> = {}): AsyncGenerator<Uint8Array> {
  const pack = tar.pack();
  const warn = opts.warn ?? ((m: string) => process.stderr.write(`cairn-snapshot: ${m}\n`));
  let failure: unknown;
  const producing = produce(new EntryReader(frames), pack, new PathFilter(opts.include ?? []), warn).then(
    () => pack.finalize(),
    (err) => {
      failure = err;
      pack.destroy(err);
    },
  );
  try {
    for await (const chunk of pack) yield chunk as Uint8Array;
  } catch (err) {
    if (!failure) throw err;
  }
  await producing;
  if (failure) throw failure;
}

async function produce(reader: EntryReader, pack: tar.Pack, include: PathFilter, warn: (m: string) => void): Promise<void> {
  // The symlinks written so far (raw paths, latin1): no later member may lie under one or
  // replace one, which `-x DIR` refuses too. An extractor that follows symlinks (Python's
  // tarfile without a filter does) would otherwise write outside its target directory.
  // Each symlink written so far (raw path, latin1) → its entry, whose target a hard link to it copies.
  const symlinks = new Map<string, Entry>();
  for (let entry = await reader.next(); entry; entry = await reader.next()) {
    if (!include.empty && !include.matchesWithin(entry.meta.path, entry.meta.kind === "dir")) continue;
    if (!include.empty && entry.meta.kind === "hardlink" && !include.matchesWithin(entry.meta.target!, false)) {
      // As -x DIR does: its file was left out, and a link member to a file the tar does not hold
      // makes `tar -x` fail (a hard link carries no content of its own).
      warn(`${printable(entry.meta.path)}: not restored: a hard link to ${printable(entry.meta.target!)}, which the paths asked for leave out`);
      continue;
    }
    throughSymlink(entry.path, symlinks, entry, true);
    if (entry.meta.kind === "hardlink") {
      throughSymlink(entry.target!, symlinks, entry, false);
      // A hard link to a symlink (`ln -P`) goes out as a symlink with the same target: a tar hard
      // link to a symlink makes some extractors chown and chmod what it points to.
      const link = symlinks.get(entry.target!.toString("latin1"));
      if (link) entry = { meta: { ...entry.meta, kind: "symlink", target: link.meta.target, targetB64: link.meta.targetB64 }, path: entry.path, target: link.target };
    }
    await packEntry(entry, reader, pack, warn);
    if (entry.meta.kind === "symlink") symlinks.set(entry.path.toString("latin1"), entry);
  }
  for (const w of reader.endWarnings()) warn(w);
}

/** Refuses (exit 18) `path` when a directory above it (or, with `self`, it) is a symlink already written. */
function throughSymlink(path: Buffer, symlinks: Map<string, Entry>, entry: Entry, self: boolean): void {
  if (symlinks.size === 0) return;
  for (let i = 0; i <= path.length; i++) {
    if (i < path.length ? path[i] !== 0x2f : !self) continue;
    const prefix = path.subarray(0, i);
    if (symlinks.has(prefix.toString("latin1"))) {
      throw new CairnError("refused", `refusing to write ${printable(entry.meta.path)} to the tar: ${printable(encodeName(prefix).text)} is a symlink in it, and an extractor could write through it`);
    }
  }
}

/**
 * pax records for an owner the header cannot hold: tar-stream writes ids in 6 octal digits (an id
 * above 0777777 became 262143), and a name longer than 32 bytes ran over the fields after it.
 * Readers take the pax record over the header.
 */
function paxOwner(meta: Entry["meta"]): Record<string, string> {
  const out: Record<string, string> = {};
  if ((meta.uid ?? 0) > 0o777777) out.uid = String(meta.uid);
  if ((meta.gid ?? 0) > 0o777777) out.gid = String(meta.gid);
  if (meta.uname !== undefined && Buffer.byteLength(meta.uname) > 32) out.uname = meta.uname;
  if (meta.gname !== undefined && Buffer.byteLength(meta.gname) > 32) out.gname = meta.gname;
  return out;
}

const MAX_HEADER_MS = 0x7fffffff * 1000;

async function packEntry(entry: Entry, reader: EntryReader, pack: tar.Pack, warn: (m: string) => void): Promise<void> {
  const meta = entry.meta;
  const type = types[meta.kind];
  // The header's mtime, within what it can hold: tar-stream writes it through `| 0` (32 bits), so a
  // time after 2038-01-19 came out as a negative number (GNU tar: "obsolescent base-64 headers",
  // or for the year 9999 an error and exit 2). The exact time, before 1970 or after 2038 too, is
  // in the pax record.
  const ms = Math.min(Math.max(0, Number(BigInt(meta.mtime) / 1_000_000n)), MAX_HEADER_MS);
  const header: HeaderArgument = {
    name: "",
    type,
    // The file-type bits keep a mode of 0 from reading as "unset" (tar-stream then picks 644);
    // the header stores only the low 12 bits.
    mode: (meta.mode & 0o7777) | typeBits[meta.kind],
    uid: meta.uid ?? 0,
    gid: meta.gid ?? 0,
    // A longer name would run over the next fields; it goes in a pax record (paxOwner).
    uname: meta.uname !== undefined && Buffer.byteLength(meta.uname) <= 32 ? meta.uname : undefined,
    gname: meta.gname !== undefined && Buffer.byteLength(meta.gname) <= 32 ? meta.gname : undefined,
    mtime: new Date(ms),
  };
  // Directory names end in "/", as every tar writes them.
  const path = meta.kind === "dir" ? Buffer.concat([entry.path, Buffer.from("/")]) : entry.path;
  header.name = path.toString("utf8");
  const binary = !isUtf8(entry.path) || (entry.target !== undefined && !isUtf8(entry.target));
  const records = { mtime: paxMtime(meta.mtime), ...paxOwner(meta) };
  if (binary) {
    // tar-stream writes names as UTF-8 only; these bytes go in members of our own (tar-members.ts).
    pack.push(gnuLongName(path, false));
    if (entry.target) pack.push(gnuLongName(entry.target, true));
    pack.push(paxMember(records, ms / 1000));
    header.name = PLACEHOLDER;
    if (entry.target) header.linkname = PLACEHOLDER;
  } else {
    // With a pax record, tar-stream writes the name and link target as pax records too.
    header.pax = records;
    if (entry.target) header.linkname = entry.target.toString("utf8");
  }

  if (meta.kind !== "file") {
    await new Promise<void>((resolve, reject) => {
      pack.entry(header, (err) => (err ? reject(err) : resolve()));
    });
    await reader.finish();
    return;
  }

  if (typeof meta.size === "number") {
    header.size = meta.size;
    await writeEntry(pack, header, reader.content(), meta.size, warn, meta.path, async () => {
      await reader.finish();
    });
  } else {
    await spooled(entry, reader, async (path, size) => {
      header.size = size;
      await writeEntry(pack, header, createReadStream(path, { highWaterMark: 1 << 20 }), size, warn, meta.path, async () => {});
    });
  }
}

/** Writes one file member with back-pressure; pads with zeros if the data falls short of the header's size. */
async function writeEntry(
  pack: tar.Pack,
  header: HeaderArgument,
  data: AsyncIterable<Uint8Array>,
  size: number,
  warn: (m: string) => void,
  path: string,
  beforeEnd: () => Promise<void>,
): Promise<void> {
  let done: (err?: Error | null) => void = () => {};
  const finished = new Promise<void>((resolve, reject) => {
    done = (err) => (err ? reject(err) : resolve());
  });
  const sink = pack.entry(header, (err) => done(err));
  // If the data fails half-way (a truncated or damaged stream, a digest that does not check),
  // that error is the one reported (extractToTar destroys the pack with it): the entry's own
  // errors that follow must not surface as an unhandled 'error' event or rejection.
  sink.on("error", () => {});
  finished.catch(() => {});
  let written = 0;
  const write = async (chunk: Uint8Array) => {
    if (!sink.write(chunk)) await new Promise<void>((resolve) => sink.once("drain", () => resolve()));
  };
  for await (const chunk of data) {
    if (written + chunk.length > size) throw new CairnError("integrity", `${path}: more data than the ${size} bytes its entry announced`);
    written += chunk.length;
    await write(chunk);
  }
  await beforeEnd();
  if (written < size) {
    warn(`${path}: ${size - written} bytes short of its announced size (the file shrank while the snapshot read it); padded with zeros`);
    for (let left = size - written; left > 0; left -= Math.min(left, 1 << 20)) await write(new Uint8Array(Math.min(left, 1 << 20)));
  }
  sink.end(undefined as never);
  await finished;
}

/** Content of unknown size → a temporary file, checked against its digest before use. */
async function spooled(entry: Entry, reader: EntryReader, use: (path: string, size: number) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "cairn-spool-"));
  trackTemp(dir);
  try {
    const path = join(dir, "data");
    const fh = await open(path, "w", 0o600);
    let size = 0;
    try {
      for await (const chunk of reader.content()) {
        for (let off = 0; off < chunk.length; ) off += (await fh.write(chunk, off)).bytesWritten;
        size += chunk.length;
      }
    } finally {
      await fh.close();
    }
    await reader.finish();
    await use(path, size);
  } finally {
    untrackTemp(dir);
    await rm(dir, { recursive: true, force: true });
  }
}
