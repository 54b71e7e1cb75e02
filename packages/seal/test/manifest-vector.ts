// The record sequences of the manifest-cut vector (vectors/manifest-cuts.json; docs/sealing.md,
// "Manifest chunks", describes them in words, and the JSON carries the first records as hex).
// Every JSON body is JSON.stringify of the object as written here, members in this order.
import { createHmac } from "node:crypto";
import { RecordTag, chunkRecord, jsonRecord } from "../src/manifest.js";

export const VECTOR_ID_KEY = Buffer.alloc(32, 0x01);
export const VECTOR_CHUNKER_SECRET = Buffer.alloc(32, 0x02);
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

function header(): Uint8Array {
  return jsonRecord(RecordTag.HEADER, {
    v: 1, time: "2026-11-27T10:00:00.000Z", host: "h", label: "l", tags: [], writer: "00".repeat(32), keyset: "00".repeat(32),
    start: { stream: "chunked", refWindow: 67108864 },
  });
}

export interface VectorCase {
  name: string;
  records: () => Uint8Array[];
}

export const VECTOR_CASES: VectorCase[] = [
  {
    // 200 files of 3 chunk records each, ids HMAC(id key, "chunk F C"), sizes 1048576 + F:
    // rules 1 and 3 cut it (no manifest chunk reaches FastCDC's min of 16 KiB).
    name: "files",
    records: () => {
      const out = [header()];
      for (let f = 0; f < 200; f++) {
        out.push(jsonRecord(RecordTag.ENTRY, { kind: "file", path: `tree/file-${f}`, mode: 420, mtime: "0" }));
        for (let c = 0; c < 3; c++) out.push(chunkRecord(createHmac("sha256", VECTOR_ID_KEY).update(`chunk ${f} ${c}`).digest(), 1048576 + f));
        out.push(jsonRecord(RecordTag.ENTRY_END, { size: 3 * (1048576 + f), sha256: "00".repeat(32) }));
      }
      out.push(jsonRecord(RecordTag.END, { entries: 200 }));
      return out;
    },
  },
  {
    // 40 symlinks whose targets are 8000 "t"s, no chunk record: the gear hash over a run of one
    // byte value settles on a constant that passes no mask, so FastCDC finds no cut point in the
    // runs, and the manifest is cut where FastCDC reaches its max of 256 KiB (rule 2).
    name: "max",
    records: () => {
      const out = [header()];
      for (let f = 0; f < 40; f++) {
        out.push(jsonRecord(RecordTag.ENTRY, { kind: "symlink", path: `tree/link-${f}`, mode: 511, mtime: "0", target: "t".repeat(8000) }));
        out.push(jsonRecord(RecordTag.ENTRY_END, { size: 0, sha256: EMPTY_SHA256 }));
      }
      out.push(jsonRecord(RecordTag.END, { entries: 40 }));
      return out;
    },
  },
];
