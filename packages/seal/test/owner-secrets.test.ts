import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generateIdentity, identityToRecipient, newSession, sealWithSession } from "@cairn/age";
import { idKeyFingerprint } from "@cairn/keys";
import { CairnError } from "@cairn/errors";
import { readOwnerSecrets } from "../src/owner-secrets.js";
import { makeKeys } from "./fixtures.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";

const dir = mkdtempSync(join(tmpdir(), "cairn-owner-secrets-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (name: string) => join(dir, name);

const identity = await generateIdentity();
const recipient = await identityToRecipient(identity);
const idKey = Buffer.alloc(32, 0x5a);
const keys = await makeKeys();

// A plain age identity file (as age-keygen writes it): no id key.
writeFileSync(at("plain.key"), `# created: now\n# public key: ${recipient}\n${identity}\n`, { mode: 0o600 });
// The same identity pinning the id key's fingerprint only.
writeFileSync(at("pinned.key"), `# cairn-id-key-fingerprint: ${idKeyFingerprint(idKey)}\n${identity}\n`, { mode: 0o600 });
writeFileSync(at("pinned-other.key"), `# cairn-id-key-fingerprint: ${idKeyFingerprint(Buffer.alloc(32, 1))}\n${identity}\n`, { mode: 0o600 });
// The repository's key file: the id key, age-encrypted to the owner.
const session = await newSession([recipient]);
writeFileSync(at("repo.key"), sealWithSession(session, Buffer.from(`cairn-id-key: ${idKey.toString("hex")}\n`)));
writeFileSync(at("owner.key"), keys.ownerText, { mode: 0o600 });

async function rejected(p: Promise<unknown>): Promise<CairnError> {
  try {
    await p;
  } catch (err) {
    return err as CairnError;
  }
  throw new Error("expected a rejection");
}

describe("the id key seal -d trusts", () => {
  it("comes from the owner key file when it carries one", async () => {
    const s = await readOwnerSecrets([at("owner.key")]);
    expect(Buffer.from(s.idKey).equals(Buffer.from(keys.owner.idKey!))).toBe(true);
    expect(s.identities).toEqual(keys.owner.identities);
  });

  it("is refused from nowhere: an owner key without one needs --repo-key (key)", async () => {
    const err = await rejected(readOwnerSecrets([at("plain.key")]));
    expect(err.kind).toBe("key");
    expect(err.message).toMatch(/carries no id key: give the repository's key file with --repo-key FILE and --trust-repo-key/);
  });

  it("comes from the repository's key file when the owner key pins its fingerprint", async () => {
    const s = await readOwnerSecrets([at("pinned.key")], { repoKey: at("repo.key") });
    expect(Buffer.from(s.idKey).equals(idKey)).toBe(true);
  });

  it("is refused from the repository's key file when the pinned fingerprint differs (key)", async () => {
    const err = await rejected(readOwnerSecrets([at("pinned-other.key")], { repoKey: at("repo.key"), trustRepoKey: true }));
    expect(err.kind).toBe("key");
    expect(err.message).toMatch(/does not match the pinned id-key fingerprint [0-9a-f]{64}: refusing it/);
  });

  it("is taken unpinned from the repository's key file only with --trust-repo-key", async () => {
    const err = await rejected(readOwnerSecrets([at("plain.key")], { repoKey: at("repo.key") }));
    expect(err.kind).toBe("key");
    expect(err.message).toMatch(/add --trust-repo-key/);
    const s = await readOwnerSecrets([at("plain.key")], { repoKey: at("repo.key"), trustRepoKey: true });
    expect(Buffer.from(s.idKey).equals(idKey)).toBe(true);
  });

  it("is refused when the repository's key file is not encrypted to the owner (key)", async () => {
    const err = await rejected(readOwnerSecrets([at("plain.key")], { repoKey: at("owner.key"), trustRepoKey: true }));
    expect(err.kind === "key" || err.kind === "integrity").toBe(true);
  });
});
