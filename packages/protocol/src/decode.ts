import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import { CairnError } from "@cairn/errors";
import { FrameType, HEADER_SIZE, MAGIC, MAX_PAYLOAD, VERSION, frameTypeName, isJsonType, isKnownType, type Frame } from "./frames.js";
import { ByteReader } from "./reader.js";

const utf8 = new TextDecoder("utf-8", { fatal: true });

function streamError(message: string): CairnError {
  return new CairnError("stream", message);
}

/** Checks the 9-byte stream header; throws on bad magic or an unknown version. */
export function checkHeader(header: Uint8Array): void {
  if (header.length < MAGIC.length || !MAGIC.every((b, i) => header[i] === b)) {
    throw streamError(header.length === 0 ? "empty input: expected a cairn stream" : "not a cairn stream (bad magic)");
  }
  if (header.length < HEADER_SIZE) throw streamError("truncated stream header");
  const version = header[MAGIC.length];
  if (version !== VERSION) {
    throw new CairnError("version", `cairn stream version ${version} is not supported (this build reads version ${VERSION})`);
  }
}

/**
 * Bytes → frames, checking everything protocol v1 promises: magic and version, known frame types,
 * lengths within the maximum, each frame's CRC-32, JSON that parses to an object, START first,
 * an END whose counts and digest match, and nothing after it. An ERROR frame from upstream is
 * thrown as an "upstream" CairnError. The END frame is yielded too, so a stage can read its summary.
 */
export async function* decodeFrames(source: AsyncIterable<Uint8Array> | ByteReader): AsyncGenerator<Frame> {
  const reader = source instanceof ByteReader ? source : new ByteReader(source);
  const digest = createHash("sha256");
  const header = await reader.read(HEADER_SIZE);
  checkHeader(header);
  digest.update(header);

  let frames = 0;
  let bytes = 0;
  for (;;) {
    const at = reader.offset;
    const prefix = await reader.read(5);
    if (prefix.length === 0) throw streamError(`stream ended without an end frame after ${frames} frames (did an upstream stage stop early?)`);
    const type = prefix[0];
    const label = `frame #${frames + 1}`;
    if (!isKnownType(type)) throw streamError(`unknown frame type 0x${type.toString(16).padStart(2, "0")} in ${label} at byte ${at}`);
    if (prefix.length < 5) throw streamError(`truncated ${label} (${frameTypeName(type)}) at byte ${at}`);
    const length = new DataView(prefix.buffer, prefix.byteOffset, 5).getUint32(1);
    if (length > MAX_PAYLOAD) throw streamError(`${label} (${frameTypeName(type)}) declares ${length} bytes, more than the maximum ${MAX_PAYLOAD}`);
    const payload = await reader.read(length);
    const suffix = await reader.read(4);
    if (payload.length < length || suffix.length < 4) {
      throw streamError(`truncated ${label} (${frameTypeName(type)}): the stream ended inside it at byte ${reader.offset}`);
    }
    const crc = new DataView(suffix.buffer, suffix.byteOffset, 4).getUint32(0);
    if (crc32(payload, crc32(prefix)) !== crc) throw streamError(`${label} (${frameTypeName(type)}) at byte ${at} is corrupt: checksum mismatch`);

    let frame: Frame;
    if (isJsonType(type)) {
      let meta: unknown;
      try {
        meta = JSON.parse(utf8.decode(payload));
      } catch (err) {
        throw streamError(`${label} (${frameTypeName(type)}) holds bad JSON: ${(err as Error).message}`);
      }
      if (meta === null || typeof meta !== "object" || Array.isArray(meta)) throw streamError(`${label} (${frameTypeName(type)}) holds JSON that is not an object`);
      frame = { type, meta: meta as Record<string, any> };
    } else {
      frame = { type, data: payload };
    }

    if (frames === 0 && type !== FrameType.START && type !== FrameType.ERROR) throw streamError(`${label} is ${frameTypeName(type)}; a stream must begin with START`);
    if (type === FrameType.ERROR) {
      const m = frame.meta!;
      const who = typeof m.tool === "string" ? m.tool : "an upstream stage";
      throw new CairnError("upstream", `${who} failed: ${typeof m.message === "string" ? m.message : "no message"}`);
    }
    if (type === FrameType.END) {
      const m = frame.meta!;
      const want = digest.digest("hex");
      if (m.frames !== frames || m.bytes !== bytes) throw streamError(`end frame counts ${m.frames} frames / ${m.bytes} bytes, but ${frames} / ${bytes} arrived`);
      if (m.digest !== want) throw streamError(`stream digest mismatch: the end frame says ${String(m.digest).slice(0, 16)}…, the stream hashes to ${want.slice(0, 16)}…`);
      if (!(await reader.atEnd())) throw streamError("unexpected data after the end frame");
      yield frame;
      return;
    }
    frames++;
    bytes += length;
    digest.update(prefix);
    digest.update(suffix);
    yield frame;
  }
}
