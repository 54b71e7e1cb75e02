// JSON frames: a byte order mark and a member name twice in one object are bad JSON
// (docs/protocol.md, "Frames"), wherever they are; look-alikes inside strings are not.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { FrameType } from "@cairn/protocol";
import { crc32 } from "node:zlib";
import { decodeAll } from "./helpers.js";

const HEADER = Buffer.from("89636169726e0d0a01", "hex");

function frame(type: number, payload: Uint8Array): Buffer {
  const out = Buffer.alloc(9 + payload.length);
  out[0] = type;
  out.writeUInt32BE(payload.length, 1);
  Buffer.from(payload).copy(out, 5);
  out.writeUInt32BE(crc32(out.subarray(0, 5 + payload.length)), 5 + payload.length);
  return out;
}

/** A plain stream: START, then an ENTRY frame whose JSON text is `entry`, then a correct END. */
function streamWithEntry(entry: string | Uint8Array): Buffer {
  const frames = [frame(FrameType.START, Buffer.from('{"stream":"plain"}')), frame(FrameType.ENTRY, typeof entry === "string" ? Buffer.from(entry) : entry)];
  const digest = createHash("sha256").update(HEADER);
  for (const f of frames) digest.update(f.subarray(0, 5)).update(f.subarray(f.length - 4));
  const bytes = frames.reduce((n, f) => n + f.length - 9, 0);
  const end = frame(FrameType.END, Buffer.from(JSON.stringify({ frames: 2, bytes, digest: digest.digest("hex") })));
  return Buffer.concat([HEADER, ...frames, end]);
}

async function outcome(entry: string | Uint8Array): Promise<string> {
  const got = await decodeAll(streamWithEntry(entry), 3);
  expect(got.other).toBeUndefined();
  return got.error ? got.error.message : "ok";
}

describe("strict JSON frames", () => {
  it("refuses a member name that comes twice, at any depth", async () => {
    expect(await outcome('{"a":1,"a":1}')).toContain("frame #2 (ENTRY) at byte 36 holds bad JSON: an object names the same member twice");
    expect(await outcome('{"a":{"b":1,"c":2,"b":3}}')).toContain("names the same member twice");
    expect(await outcome('{"a":[{"x":1},{"y":2,"y":2}]}')).toContain("names the same member twice");
    expect(await outcome('{"a":1,"\\u0061":2}')).toContain("names the same member twice");
    expect(await outcome('{"__proto__":1,"__proto__":2}')).toContain("names the same member twice");
  });

  it("accepts the same name in different objects, and colons and quotes inside strings", async () => {
    expect(await outcome('{"a":{"a":1},"b":[{"a":2},{"a":3}]}')).toBe("ok");
    expect(await outcome('{"path":"a:b\\":c","target":"\\\\","x":"\\\\\\":"}')).toBe("ok");
    expect(await outcome('{ "a" : 1 , "b" : { } , "c" : [ ] }')).toBe("ok");
    expect(await outcome('{"__proto__":{"a":1},"a":2}')).toBe("ok");
  });

  it("refuses a byte order mark before the JSON, not one inside a string", async () => {
    expect(await outcome(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]))).toContain(
      "frame #2 (ENTRY) at byte 36 holds bad JSON: it begins with a byte order mark",
    );
    expect(await outcome('{"a":"\ufeff"}')).toBe("ok");
  });
});
