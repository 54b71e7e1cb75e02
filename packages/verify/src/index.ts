// @cairn/verify: proof that a repository's snapshots are whole and restorable (docs/verify.md).
// Without a key it checks signatures, references, the index against pack trailers, and (with
// --read-data) each pack's bytes against its name; with the owner key it also opens objects and
// manifests. `verifyStream` checks a cairn stream instead.
export { verifyRepository, DEFAULT_CLOCK_SKEW_MS, type VerifyOptions } from "./repository.js";
export { verifyStream, type StreamVerifyOptions } from "./stream.js";
export { Report, type Problem, type ProblemKind, type AffectedFile, type SnapshotStatus, type Stats } from "./report.js";
export { Damage } from "./damage.js";
export { loadVerifyIndex, type VerifyIndex } from "./index-files.js";
export { checkPacks, listPacks, type ObjectOpener, type PackCheckOptions } from "./packs.js";
export { parseSubset, parseDuration, selects, subsetName, describeSubset, type Subset } from "./subset.js";
