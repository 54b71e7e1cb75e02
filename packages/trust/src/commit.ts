// COMMIT: the signed clear part of a snapshot (docs/sealing.md, "COMMIT"). The signature is
// Ed25519 over a domain label and the canonical JSON of every member but `sig`. This module is
// the readers' side, with no key or encryption code: seal signs, and seal -d, verify and prune
// (which transport hosts run) check with the writers' pinned public keys.
import { createPublicKey, verify, type KeyObject } from "node:crypto";
import { CairnError } from "@cairn/errors";
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

/** A public KeyObject from its hex raw form (for verifying snapshot signatures). */
export function publicKeyFromHex(hex: string): KeyObject {
  return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(hex, "hex").toString("base64url") }, format: "jwk" });
}

export function signedBytes(commit: UnsignedCommit | Commit | Record<string, unknown>): Buffer {
  const { sig: _sig, ...rest } = commit as Commit;
  return Buffer.from(SIGNING_LABEL + canonicalJson(rest), "utf8");
}

const HEX32 = /^[0-9a-f]{64}$/;
const HEX64 = /^[0-9a-f]{128}$/;

export type SignatureCheck = { ok: true } | { ok: false; why: "unsigned" | "forged"; message: string };

/**
 * Whether a pinned writer signed this COMMIT, as a result rather than an error (prune and verify
 * report and go on). "unsigned": no pinned writer's signature; "forged": a pinned writer's key
 * but a signature that does not verify.
 */
export function checkCommitSignature(commit: Record<string, unknown>, pinned: ReadonlySet<string>): SignatureCheck {
  const writer = commit.writer;
  if (typeof writer !== "string" || !HEX32.test(writer)) return { ok: false, why: "unsigned", message: "names no writer key" };
  if (!pinned.has(writer)) return { ok: false, why: "unsigned", message: `signed by writer ${writer.slice(0, 16)}…, which is not pinned` };
  const sig = commit.sig;
  if (typeof sig !== "string" || !HEX64.test(sig)) return { ok: false, why: "forged", message: `its signature by writer ${writer.slice(0, 16)}… is missing or malformed` };
  let good = false;
  try {
    good = verify(null, signedBytes(commit), publicKeyFromHex(writer), Buffer.from(sig, "hex"));
  } catch {
    good = false;
  }
  return good ? { ok: true } : { ok: false, why: "forged", message: `its signature by writer ${writer.slice(0, 16)}… does not verify (the clear part was altered)` };
}

/** Checks a COMMIT's shape, that a pinned writer signed it, and the signature. Throws "integrity", "key" or "version". */
export function verifyCommit(meta: Record<string, unknown>, trusted: ReadonlySet<string>): Commit {
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
  const check = checkCommitSignature(meta, trusted);
  if (!check.ok) throw bad(check.message.replace(/^its /, ""));
  return commit;
}
