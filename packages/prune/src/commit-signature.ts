// Checking a snapshot's signature without any key code: Ed25519 (node:crypto) with a pinned
// public key, over "cairn commit v1\n" and the canonical JSON of the COMMIT without `sig`
// (docs/sealing.md, "COMMIT" and "Canonical JSON"). @cairn/seal holds the writer's side and
// imports key and encryption code, which prune must not load; this is a second reading of the
// same spec, checked against seal's vector (packages/prune/test/commit-signature.test.ts).
import { createPublicKey, verify } from "node:crypto";

const SIGNING_LABEL = "cairn commit v1\n";
// SPKI DER prefix for a raw 32-byte Ed25519 public key (RFC 8410).
const SPKI_ED25519 = Buffer.from("302a300506032b6570032100", "hex");

/** RFC 8785 for the values a COMMIT holds. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`canonical JSON has no form for ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(",")}]`;
  if (typeof value === "object") {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(",")}}`;
  }
  throw new TypeError(`canonical JSON has no form for a ${typeof value}`);
}

export type SignatureCheck = { ok: true } | { ok: false; why: "unsigned" | "forged"; message: string };

/** Whether a pinned writer signed this COMMIT. "unsigned": no pinned writer's signature; "forged": a pinned writer's key but a bad signature. */
export function checkCommitSignature(commit: Record<string, unknown>, pinned: ReadonlySet<string>): SignatureCheck {
  const writer = commit.writer;
  if (typeof writer !== "string" || !/^[0-9a-f]{64}$/.test(writer)) return { ok: false, why: "unsigned", message: "names no writer key" };
  if (!pinned.has(writer)) return { ok: false, why: "unsigned", message: `signed by writer ${writer.slice(0, 16)}…, which is not pinned` };
  const sig = commit.sig;
  if (typeof sig !== "string" || !/^[0-9a-f]{128}$/.test(sig)) return { ok: false, why: "forged", message: `its signature by writer ${writer.slice(0, 16)}… is missing or malformed` };
  const { sig: _sig, ...rest } = commit;
  let good = false;
  try {
    const key = createPublicKey({ key: Buffer.concat([SPKI_ED25519, Buffer.from(writer, "hex")]), format: "der", type: "spki" });
    good = verify(null, Buffer.from(SIGNING_LABEL + canonicalJson(rest), "utf8"), key, Buffer.from(sig, "hex"));
  } catch {
    good = false;
  }
  return good ? { ok: true } : { ok: false, why: "forged", message: `its signature by writer ${writer.slice(0, 16)}… does not verify (the clear part was altered)` };
}
