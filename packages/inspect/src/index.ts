// cairn inspect: any cairn stream as JSON lines, one per frame, for debugging a pipeline.
// JSON frames print their metadata; binary frames print a summary (docs/protocol.md names the
// layouts): length, chunk or object id, object kind and a short preview of the bytes.
import { FrameDecoder, FrameType, ID_SIZE, SealedKind, UpstreamError, frameTypeName, type Frame } from "@cairn/protocol";

export interface InspectOptions {
  /** Print the whole payload of binary frames, not just a preview. */
  data?: boolean;
  /** How bytes are printed (default hex). */
  encoding?: "hex" | "base64";
  /** Bytes shown in a preview (default 16). */
  preview?: number;
}

const sealedKindNames: Record<number, string> = {
  [SealedKind.DATA_CHUNK]: "data",
  [SealedKind.MANIFEST_CHUNK]: "manifest",
  [SealedKind.MANIFEST_ROOT]: "manifest-root",
  [SealedKind.REFS_BLOCK]: "refs",
  [SealedKind.REFS_ROOT]: "refs-root",
};

function text(bytes: Uint8Array, encoding: "hex" | "base64"): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(encoding);
}

/** The summary of a binary frame's payload: ids, kinds and sizes from its layout, then its bytes. */
function binarySummary(frame: Frame, opts: Required<InspectOptions>): Record<string, unknown> {
  const data = frame.data!;
  const out: Record<string, unknown> = {};
  let body = data;
  switch (frame.type) {
    case FrameType.CHUNK:
      out.id = text(data.subarray(0, ID_SIZE), "hex");
      body = data.subarray(ID_SIZE);
      out.size = body.length;
      break;
    case FrameType.CHUNK_REF:
      out.id = text(data.subarray(0, ID_SIZE), "hex");
      out.size = Buffer.from(data.buffer, data.byteOffset, data.byteLength).readUInt32BE(ID_SIZE);
      return out;
    case FrameType.SEALED:
    case FrameType.SEALED_REF:
      out.kind = sealedKindNames[data[0]];
      out.id = text(data.subarray(1, 1 + ID_SIZE), "hex");
      if (frame.type === FrameType.SEALED_REF) return out;
      body = data.subarray(1 + ID_SIZE);
      out.size = body.length;
      break;
  }
  if (opts.data) out.data = text(body, opts.encoding);
  else if (body.length) out.preview = text(body.subarray(0, opts.preview), opts.encoding) + (body.length > opts.preview ? "..." : "");
  return out;
}

/** One line's object: n, type and where the frame starts, then the frame's metadata or summary. */
function line(n: number, type: number, body: Record<string, unknown>, at?: number, length?: number): string {
  const head = at === undefined ? { n, type: frameTypeName(type) } : { n, type: frameTypeName(type), at, length };
  // Metadata that would hide a field of the line itself is nested instead.
  const clash = Object.keys(body).some((k) => k in head);
  return JSON.stringify(clash ? { ...head, meta: body } : { ...head, ...body });
}

/**
 * Lines (each ending in "\n") describing the stream's frames, END included. On a damaged
 * stream it yields the lines of the frames it could read, then throws the decoder's error;
 * an upstream ERROR frame gets its own line before the error is thrown.
 */
export async function* inspectLines(source: AsyncIterable<Uint8Array>, options: InspectOptions = {}): AsyncGenerator<string> {
  const opts: Required<InspectOptions> = { data: false, encoding: "hex", preview: 16, ...options };
  const decoder = new FrameDecoder(source);
  let n = 0;
  try {
    for (;;) {
      const frame = await decoder.next();
      if (!frame) return;
      n++;
      yield line(n, frame.type, frame.meta ?? binarySummary(frame, opts), decoder.offset, decoder.length) + "\n";
    }
  } catch (err) {
    if (err instanceof UpstreamError) yield line(n + 1, FrameType.ERROR, err.origin) + "\n";
    throw err;
  } finally {
    await decoder.close().catch(() => {});
  }
}
