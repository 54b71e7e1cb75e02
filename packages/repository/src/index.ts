// @cairn/repository: the repository format (docs/repository.md), one module per object type.
export * from "./ids.js";
export * from "./layout.js";
export * from "./config.js";
export * from "./pack.js";
export * from "./index-file.js";
export { IndexTable, sortedOrder } from "./index-table.js";
export { IdSet } from "./id-set.js";
export { LocalCache } from "./cache.js";
export { listMarks } from "./marks.js";
export { listIds, packTimes, type Listed } from "./listing.js";
export { loadIndex, unindexedPacks, indexPacksFromTrailers, type LoadedIndex, type LoadIndexOptions } from "./load-index.js";
export * from "./snapshots.js";
export * from "./known.js";
export { countingStorage, type RequestCounts } from "./counting.js";
export { readObject, readClearObject, snapshotReferences } from "./objects.js";
export { mapLimit } from "./limit.js";
