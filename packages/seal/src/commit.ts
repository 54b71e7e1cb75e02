// COMMIT: the signed clear part of a snapshot (docs/sealing.md, "COMMIT"). The signature is
// Ed25519 over a domain label and the canonical JSON of every member but `sig`.
import { sign, verify, type KeyObject } from "node:crypto";
import { CairnError } from "@cairn/errors";
import { publicKeyFromHex } from "@cairn/keys";
import { canonicalJson } from "./canonical-json.js";

export const COMMIT_VERSION = 1;
/** Signed bytes = this label, then the canonical JSON. Keeps a COMMIT signature from meaning anything else. */
export const SIGNING_LABEL = "cairn commit v1\n";

export interface CommitStats {
  /** Entries in the snapshot. */
  entries: number;
  /** Plaintext bytes of all file contents. */
  bytes: number;
  /** Distinct ids the snapshot references (the size of its refs set). */
  refs: number;
}

export interface UnsignedCommit {
  v: number;
  time: string;
  host: string;
  label: string;
  tags: string[];
  /** Hex Ed25519 public key (32 bytes) of the writer that signed. */
  writer: string;
  /** Hex fingerprint of the writer key's recipient set and id key. */
  keyset: string;
  /** Hex id of the manifest root. */
  manifest: string;
  /** Hex id of the refs root. */
  refs: string;
  stats: CommitStats;
  /** Entries that could not be read completely (absent when none). */
  partial?: number;
  /** Present (true) when some entry's completeness could not be verified. */
  unverified?: boolean;
}

export interface Commit extends UnsignedCommit {
  /** Hex Ed25519 signature (64 bytes). */
  sig: string;
}

export function signedBytes(commit: UnsignedCommit | Commit): Buffer {
  const { sig: _sig, ...rest } = commit as Commit;
  return Buffer.from(SIGNING_LABEL + canonicalJson(rest), "utf8");
}

export function signCommit(unsigned: UnsignedCommit, signingKey: KeyObject): Commit {
  const sig = sign(null, signedBytes(unsigned), signingKey).toString("hex");
  return { ...unsigned, sig };
}

const HEX32 = /^[0-9a-f]{64}$/;

/** Checks a COMMIT's shape, that a pinned writer signed it, and the signature. Throws "integrity" or "key". */
export function verifyCommit(meta: Record<string, unknown>, trusted: Set<string>): Commit {
  const bad = (why: string) => new CairnError("integrity", `COMMIT ${why}`);
  if (meta.v !== COMMIT_VERSION) throw new CairnError("version", `COMMIT version ${JSON.stringify(meta.v)} is not supported (this build reads ${COMMIT_VERSION})`);
  for (const f of ["time", "host", "label", "writer", "keyset", "manifest", "refs", "sig"] as const) {
    if (typeof meta[f] !== "string") throw bad(`has no ${f}`);
  }
  if (!Array.isArray(meta.tags) || !meta.tags.every((t) => typeof t === "string")) throw bad("has no tags list");
  if (!HEX32.test(meta.manifest as string) || !HEX32.test(meta.refs as string)) throw bad("names a root that is not a 32-byte hex id");
  if (typeof meta.stats !== "object" || meta.stats === null) throw bad("has no stats");
  const commit = meta as unknown as Commit;
  if (!HEX32.test(commit.writer)) throw bad("names a writer key that is not 32 bytes of hex");
  if (!trusted.has(commit.writer)) {
    throw new CairnError("key", `COMMIT is signed by writer ${commit.writer.slice(0, 16)}…, which is not pinned in the trusted writers file`);
  }
  if (!/^[0-9a-f]{128}$/.test(commit.sig)) throw bad(`signature by writer ${commit.writer.slice(0, 16)}… is malformed`);
  const ok = verify(null, signedBytes(commit), publicKeyFromHex(commit.writer), Buffer.from(commit.sig, "hex"));
  if (!ok) throw bad(`signature by writer ${commit.writer.slice(0, 16)}… does not verify (the snapshot's clear part was altered)`);
  return commit;
}
