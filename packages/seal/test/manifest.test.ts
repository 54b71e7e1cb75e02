import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ManifestParser, RecordTag, chunkRecord, jsonRecord, type ManifestRecord } from "../src/manifest.js";

const header = { v: 1, time: "2026-11-27T10:00:00Z", host: "h", label: "l", tags: [], writer: "w", keyset: "k", start: { stream: "chunked" } };

function manifest(): { bytes: Buffer; expected: ManifestRecord[] } {
  const records: Uint8Array[] = [];
  const expected: ManifestRecord[] = [];
  const add = (bytes: Uint8Array, r: ManifestRecord) => {
    records.push(bytes);
    expected.push(r);
  };
  add(jsonRecord(RecordTag.HEADER, header), { tag: RecordTag.HEADER, meta: header });
  for (let e = 0; e < 5; e++) {
    const entry = { kind: "file", path: `dir/f${e}.txt`, mode: 0o644, mtime: "1" };
    add(jsonRecord(RecordTag.ENTRY, entry), { tag: RecordTag.ENTRY, meta: entry });
    for (let c = 0; c < e; c++) {
      const id = randomBytes(32);
      add(chunkRecord(id, 1000 * c + 1), { tag: RecordTag.CHUNK, id: new Uint8Array(id), size: 1000 * c + 1 });
    }
    add(jsonRecord(RecordTag.ENTRY_END, { size: 3, sha256: "00" }), { tag: RecordTag.ENTRY_END, meta: { size: 3, sha256: "00" } });
  }
  add(jsonRecord(RecordTag.END, { entries: 5 }), { tag: RecordTag.END, meta: { entries: 5 } });
  return { bytes: Buffer.concat(records), expected };
}

describe("manifest records", () => {
  it("encode a chunk occurrence as tag, length, id and size (vector)", () => {
    const bytes = Buffer.from(chunkRecord(Buffer.alloc(32, 0xab), 0x010203));
    expect(bytes.toString("hex")).toBe(`2000000024${"ab".repeat(32)}00010203`);
    expect(Buffer.from(jsonRecord(RecordTag.ENTRY, { path: "a" })).toString("hex")).toBe("100000000c" + Buffer.from('{"path":"a"}').toString("hex"));
  });

  it("parse back the same records however the bytes are split", () => {
    const { bytes, expected } = manifest();
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 12 }), (cuts) => {
        const points = [...new Set([0, ...cuts, bytes.length])].sort((a, b) => a - b);
        const parser = new ManifestParser();
        const got: ManifestRecord[] = [];
        for (let i = 1; i < points.length; i++) got.push(...parser.push(bytes.subarray(points[i - 1], points[i])));
        parser.finish();
        expect(got).toEqual(expected);
      }),
      { numRuns: 60 },
    );
  });

  it("refuse a manifest that stops inside a record, lacks its end record, or has records after it", () => {
    const { bytes } = manifest();
    const cut = new ManifestParser(() => "manifest chunk m");
    cut.push(bytes.subarray(0, bytes.length - 3));
    expect(() => cut.finish()).toThrow(/manifest chunk m ends inside a record/);
    const noEnd = new ManifestParser();
    noEnd.push(jsonRecord(RecordTag.HEADER, header));
    expect(() => noEnd.finish()).toThrow(/has no end record/);
    const after = new ManifestParser();
    after.push(bytes);
    expect(() => after.push(jsonRecord(RecordTag.ENTRY, {}))).toThrow(/records after its end record/);
  });

  it("refuse records that do not begin with the header, unknown tags and bad lengths", () => {
    expect(() => new ManifestParser().push(jsonRecord(RecordTag.ENTRY, {}))).toThrow(/does not begin with a header record/);
    const p = new ManifestParser();
    p.push(jsonRecord(RecordTag.HEADER, header));
    // An unknown tag in an authenticated manifest is a newer writer's record: version (11), not damage.
    expect(() => p.push(Uint8Array.of(0x55, 0, 0, 0, 0))).toThrow(expect.objectContaining({ kind: "version", message: expect.stringMatching(/unknown type 0x55 \(a newer cairn wrote it: use that\)/) }));
    const q = new ManifestParser();
    q.push(jsonRecord(RecordTag.HEADER, header));
    expect(() => q.push(Uint8Array.of(0x20, 0, 0, 0, 35))).toThrow(/chunk record of 35 bytes/);
    const r = new ManifestParser();
    r.push(jsonRecord(RecordTag.HEADER, header));
    expect(() => r.push(Buffer.concat([Uint8Array.of(0x10, 0, 0, 0, 3), Buffer.from("{x}")]))).toThrow(/bad JSON/);
  });

  it("refuse JSON records that two readers could take two ways: a member named twice, a byte order mark", () => {
    const record = (text: string) => {
      const body = Buffer.from(text);
      const head = Buffer.alloc(5);
      head[0] = RecordTag.ENTRY;
      head.writeUInt32BE(body.length, 1);
      return Buffer.concat([head, body]);
    };
    const twice = new ManifestParser();
    twice.push(jsonRecord(RecordTag.HEADER, header));
    expect(() => twice.push(record('{"type":"file","path":"a","path":"b"}'))).toThrow(/bad JSON \(an object names the same member twice\)/);
    const bom = new ManifestParser();
    bom.push(jsonRecord(RecordTag.HEADER, header));
    expect(() => bom.push(record('\ufeff{"type":"file","path":"a"}'))).toThrow(/bad JSON \(it begins with a byte order mark\)/);
    const fine = new ManifestParser();
    fine.push(jsonRecord(RecordTag.HEADER, header));
    expect(fine.push(record('{"type":"file","path":"a","m":{"path":"b"}}'))).toHaveLength(1);
  });
});
