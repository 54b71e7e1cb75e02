// The manifest (docs/sealing.md, "Manifest"): the snapshot's metadata as a byte stream of
// records `tag u8 | length u32 BE | body`. Tags mirror the frame types they stand for.
// The stream is cut into manifest chunks elsewhere (manifest-cutter.ts); a reader parses it
// progressively, across chunk boundaries, never holding more than one record of leftovers.
import { CairnError } from "@cairn/errors";
import { parseStrictJson } from "@cairn/protocol";
import { ID_SIZE } from "./objects.js";

export const RecordTag = {
  HEADER: 0x01, // JSON: binds the manifest to its snapshot's clear part; carries the chunked START
  ENTRY: 0x10, // JSON: an ENTRY frame's metadata
  ENTRY_END: 0x12, // JSON: an ENTRY_END frame's metadata
  CHUNK: 0x20, // binary: one occurrence of a data chunk, id (32 bytes) + plaintext size u32 BE
  END: 0x7f, // JSON: the chunked stream's END metadata (without frames/bytes/digest)
} as const;

export const MANIFEST_VERSION = 1;
const RECORD_HEAD = 5;
const CHUNK_BODY = ID_SIZE + 4;
/** No JSON record is larger: a bigger length means a damaged manifest. */
export const MAX_JSON_RECORD = 1024 * 1024;

export type ManifestRecord =
  | { tag: typeof RecordTag.HEADER | typeof RecordTag.ENTRY | typeof RecordTag.ENTRY_END | typeof RecordTag.END; meta: Record<string, any> }
  | { tag: typeof RecordTag.CHUNK; id: Uint8Array; size: number };

/** What the header record holds. */
export interface ManifestHeader {
  v: number;
  time: string;
  host: string;
  label: string;
  tags: string[];
  writer: string;
  keyset: string;
  /** The chunked stream's START metadata, restored by `seal -d`. */
  start: Record<string, any>;
}

const utf8 = new TextEncoder();

export function jsonRecord(tag: number, meta: unknown): Uint8Array {
  const body = utf8.encode(JSON.stringify(meta));
  if (body.length > MAX_JSON_RECORD) throw new CairnError("refused", `a manifest record of ${body.length} bytes is larger than ${MAX_JSON_RECORD} (an entry with enormous metadata?)`);
  const out = new Uint8Array(RECORD_HEAD + body.length);
  out[0] = tag;
  new DataView(out.buffer).setUint32(1, body.length);
  out.set(body, RECORD_HEAD);
  return out;
}

export function chunkRecord(id: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(RECORD_HEAD + CHUNK_BODY);
  const view = new DataView(out.buffer);
  out[0] = RecordTag.CHUNK;
  view.setUint32(1, CHUNK_BODY);
  out.set(id, RECORD_HEAD);
  view.setUint32(RECORD_HEAD + ID_SIZE, size);
  return out;
}

/**
 * Parses manifest bytes given in pieces of any size. `where()` names the current manifest
 * chunk for errors. Throws "integrity": a manifest is authenticated, so a malformed one was
 * written wrong or forged.
 */
export class ManifestParser {
  private buffered: Uint8Array = new Uint8Array(0);
  private records = 0;
  private ended = false;

  constructor(private readonly where: () => string = () => "the manifest") {}

  /** The complete records in `bytes` (with what was left over before). */
  push(bytes: Uint8Array): ManifestRecord[] {
    let data = bytes;
    if (this.buffered.length) {
      data = new Uint8Array(this.buffered.length + bytes.length);
      data.set(this.buffered);
      data.set(bytes, this.buffered.length);
    }
    const out: ManifestRecord[] = [];
    let at = 0;
    while (data.length - at >= RECORD_HEAD) {
      const tag = data[at];
      const length = new DataView(data.buffer, data.byteOffset + at + 1, 4).getUint32(0);
      this.checkHead(tag, length);
      if (data.length - at - RECORD_HEAD < length) break;
      const body = data.subarray(at + RECORD_HEAD, at + RECORD_HEAD + length);
      out.push(this.record(tag, body));
      at += RECORD_HEAD + length;
    }
    this.buffered = new Uint8Array(data.subarray(at));
    return out;
  }

  /** Throws unless the manifest ended cleanly: an END record last, nothing left over. */
  finish(): void {
    if (this.buffered.length) throw this.fail(`ends inside a record (${this.buffered.length} bytes left over)`);
    if (!this.ended) throw this.fail("has no end record");
  }

  get sawEnd(): boolean {
    return this.ended;
  }

  private checkHead(tag: number, length: number): void {
    if (this.ended) throw this.fail("has records after its end record");
    const first = this.records === 0;
    if (first !== (tag === RecordTag.HEADER)) throw this.fail(first ? "does not begin with a header record" : "has a second header record");
    switch (tag) {
      case RecordTag.CHUNK:
        if (length !== CHUNK_BODY) throw this.fail(`has a chunk record of ${length} bytes, not ${CHUNK_BODY}`);
        return;
      case RecordTag.HEADER:
      case RecordTag.ENTRY:
      case RecordTag.ENTRY_END:
      case RecordTag.END:
        if (length > MAX_JSON_RECORD) throw this.fail(`has a record of ${length} bytes, more than ${MAX_JSON_RECORD}`);
        return;
      default:
        // An authenticated manifest with a record this build does not know: a newer cairn's (11), not damage.
        throw new CairnError("version", `${this.where()} has a record of unknown type 0x${tag.toString(16).padStart(2, "0")} (a newer cairn wrote it: use that)`);
    }
  }

  private record(tag: number, body: Uint8Array): ManifestRecord {
    this.records++;
    if (tag === RecordTag.CHUNK) {
      return { tag, id: new Uint8Array(body.subarray(0, ID_SIZE)), size: new DataView(body.buffer, body.byteOffset + ID_SIZE, 4).getUint32(0) };
    }
    if (tag === RecordTag.END) this.ended = true;
    const { value: meta, problem } = parseStrictJson(body);
    if (problem !== undefined) throw this.fail(`holds a record with bad JSON (${problem})`);
    if (meta === null || typeof meta !== "object" || Array.isArray(meta)) throw this.fail("holds a JSON record that is not an object");
    return { tag: tag as typeof RecordTag.HEADER, meta: meta as Record<string, any> };
  }

  private fail(why: string): CairnError {
    return new CairnError("integrity", `${this.where()} ${why}`);
  }
}

/** Checks a header record's shape. */
export function checkHeader(meta: Record<string, any>, where: string): ManifestHeader {
  const bad = (why: string) => new CairnError("integrity", `${where}: the manifest header ${why}`);
  if (meta.v !== MANIFEST_VERSION) throw new CairnError("version", `${where}: manifest version ${JSON.stringify(meta.v)} is not supported (this build reads ${MANIFEST_VERSION})`);
  for (const f of ["time", "host", "label", "writer", "keyset"]) if (typeof meta[f] !== "string") throw bad(`has no ${f}`);
  if (!Array.isArray(meta.tags)) throw bad("has no tags");
  if (typeof meta.start !== "object" || meta.start === null || meta.start.stream !== "chunked") throw bad("does not carry the chunked stream's START");
  return meta as ManifestHeader;
}

/** Throws unless the header names the same snapshot as its signed COMMIT: otherwise it is a manifest from another snapshot. */
export function bindHeader(header: ManifestHeader, commit: Record<string, unknown>): void {
  for (const f of ["time", "host", "label", "writer", "keyset"] as const) {
    if (header[f] !== commit[f]) {
      throw new CairnError("integrity", `the manifest header's ${f} (${JSON.stringify(header[f])}) is not the signed COMMIT's (${JSON.stringify(commit[f])}): a manifest from another snapshot`);
    }
  }
  if (JSON.stringify(header.tags) !== JSON.stringify(commit.tags)) throw new CairnError("integrity", "the manifest header's tags are not the signed COMMIT's: a manifest from another snapshot");
}
