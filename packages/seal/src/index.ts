// @cairn/seal: chunked stream ⇄ sealed stream. docs/sealing.md.
export { seal, DEFAULT_LEVEL, type SealOptions, type SealingKey } from "./seal.js";
export { unseal, type UnsealOptions } from "./unseal.js";
export { Selection } from "./selection.js";
export { readOwnerSecrets, type OwnerSecrets, type OwnerSecretOptions } from "./owner-secrets.js";
export { ObjectKind, ID_SIZE, encodeSealed, encodeSealedRef, decodeSealed, objectName, hex, type SealedObject } from "./objects.js";
export { RecordTag, ManifestParser, jsonRecord, chunkRecord, checkHeader, bindHeader, MANIFEST_VERSION, type ManifestRecord, type ManifestHeader } from "./manifest.js";
export { ManifestCutter, MANIFEST_CDC, ID_CUT_BELOW, HELD_CAP } from "./manifest-cutter.js";
export { IdList, refsBlocks, isSortedIds, sha256, REFS_CUT_BELOW, REFS_BLOCK_MAX } from "./refs.js";
export { KnownIds, encodeKnown, decodeKnown, readKnownFile, KNOWN_MAGIC, KNOWN_VERSION, KNOWN_HEADER } from "./known.js";
export { signCommit, verifyCommit, signedBytes, SIGNING_LABEL, COMMIT_VERSION, type Commit, type UnsignedCommit, type CommitStats } from "./commit.js";
export { canonicalJson } from "@cairn/trust";
export { compressChunk, rawZstdFrame, rawFramePlaintext, looksIncompressible, decompressChunk } from "./zstd.js";
export { stopWorker, watchExit } from "./pool.js";
export { CLOSE as CLOSE_WORKER, jobsInFlight } from "./worker-serve.js";
