// @cairn/chunk: keyed content-defined chunking (docs/chunking.md) and the `chunk` / `chunk -d` stages.
export { FastCdc, chunkSizes } from "./fastcdc.js";
export { deriveGear } from "./gear.js";
export { chunkId, ID_SIZE } from "./chunk-id.js";
export { ALGORITHM, DEFAULT_PARAMS, MAX_CHUNK, MAX_REF_WINDOW, checkParams, checkRefWindow, masksFor, parseSize, type ChunkerParams, type ChunkerInfo, type ChunkerMasks } from "./params.js";
export type { ChunkSecrets } from "./secrets.js";
export { chunkStream, type ChunkOptions } from "./chunk-stream.js";
export { chunkInput } from "./chunk-input.js";
export { rawToPlain } from "./raw-input.js";
export { dechunkStream, type DechunkOptions } from "./dechunk-stream.js";
