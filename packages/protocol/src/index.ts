export * from "./frames.js";
export { FrameEncoder, encodeFrames } from "./encode.js";
export { decodeFrames, checkHeader, FrameDecoder } from "./decode.js";
export { UpstreamError, type ErrorMeta } from "./upstream.js";
export { ID_SIZE, SealedKind, STREAM_KINDS, checkBinaryLayout } from "./layout.js";
export { ByteReader } from "./reader.js";
export { stdinChunks, writeAll, writeFrames, sniff } from "./io.js";
export * from "./entries.js";
export { RefWindow, DEFAULT_REF_WINDOW, MAX_WINDOW_CHUNKS } from "./window.js";
