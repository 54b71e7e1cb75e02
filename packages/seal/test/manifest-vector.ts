// The record sequence of the manifest-cut vector (vectors/manifest-cuts.json): fixed keys, a
// header, 200 files of 3 chunk records each with ids HMAC(id key, "chunk F C"), an end record.
import { createHmac } from "node:crypto";
import { RecordTag, chunkRecord, jsonRecord } from "../src/manifest.js";

export const VECTOR_ID_KEY = Buffer.alloc(32, 0x01);
export const VECTOR_CHUNKER_SECRET = Buffer.alloc(32, 0x02);

export function vectorRecords(): Uint8Array[] {
  const out: Uint8Array[] = [
    jsonRecord(RecordTag.HEADER, {
      v: 1, time: "2026-11-27T10:00:00.000Z", host: "h", label: "l", tags: [], writer: "00".repeat(32), keyset: "00".repeat(32),
      start: { stream: "chunked", refWindow: 67108864 },
    }),
  ];
  for (let f = 0; f < 200; f++) {
    out.push(jsonRecord(RecordTag.ENTRY, { kind: "file", path: `tree/file-${f}`, mode: 420, mtime: "0" }));
    for (let c = 0; c < 3; c++) out.push(chunkRecord(createHmac("sha256", VECTOR_ID_KEY).update(`chunk ${f} ${c}`).digest(), 1048576 + f));
    out.push(jsonRecord(RecordTag.ENTRY_END, { size: 3 * (1048576 + f), sha256: "00".repeat(32) }));
  }
  out.push(jsonRecord(RecordTag.END, { entries: 200 }));
  return out;
}
