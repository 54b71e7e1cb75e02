// @cairn/trust: what a reader needs to decide whether to believe a snapshot, and nothing
// secret: canonical JSON, COMMIT signature checks against pinned Ed25519 public keys, and the
// local trust file. Transport hosts (prune, keyless verify) import this, never @cairn/keys.
export { canonicalJson } from "./canonical-json.js";
export {
  COMMIT_VERSION,
  SIGNING_LABEL,
  publicKeyFromHex,
  signedBytes,
  checkCommitSignature,
  verifyCommit,
  type Commit,
  type CommitStats,
  type UnsignedCommit,
  type SignatureCheck,
} from "./commit.js";
export { readTrustedWriters, pinWriter, trustFilePath, WRITERS_ENV } from "./trust-file.js";
