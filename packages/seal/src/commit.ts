// COMMIT: the signed clear part of a snapshot (docs/sealing.md, "COMMIT"). The format, its
// canonical JSON and the readers' check live in @cairn/trust (transport hosts check signatures
// without key code); the writer's side, signing, is here.
import { sign, type KeyObject } from "node:crypto";
import { signedBytes, type Commit, type UnsignedCommit } from "@cairn/trust";

export { COMMIT_VERSION, SIGNING_LABEL, signedBytes, verifyCommit, type Commit, type CommitStats, type UnsignedCommit } from "@cairn/trust";

export function signCommit(unsigned: UnsignedCommit, signingKey: KeyObject): Commit {
  const sig = sign(null, signedBytes(unsigned), signingKey).toString("hex");
  return { ...unsigned, sig };
}
