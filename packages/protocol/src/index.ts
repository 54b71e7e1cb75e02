export * from "./frames.js";
export { FrameEncoder, encodeFrames } from "./encode.js";
export { decodeFrames, checkHeader } from "./decode.js";
export { ByteReader } from "./reader.js";
export { stdinChunks, writeAll, writeFrames, sniff } from "./io.js";
export * from "./entries.js";
export { RefWindow, DEFAULT_REF_WINDOW, MAX_WINDOW_CHUNKS } from "./window.js";
