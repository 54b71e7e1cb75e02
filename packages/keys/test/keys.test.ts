import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { generateIdentity, identityToRecipient, newSession, openFile, sealWithSession } from "@cairn/age";
import { CairnError } from "@cairn/errors";
import {
  createOwnerKey, createWriterKey, formatRepoSecrets, idKeyFingerprint, keysetOf, parseOwnerKey, parseRepoSecrets, pinWriter, readOwnerKey, readTrustedWriters, readWriterKey,
  trustFilePath, writeKeyFile,
} from "../src/index.js";

const tmp = mkdtempSync(join(tmpdir(), "cairn-keys-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const path = (name: string) => join(tmp, `${n++}-${name}`);

async function errorOf(p: Promise<unknown> | (() => unknown)): Promise<CairnError> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(CairnError);
    return err as CairnError;
  }
  throw new Error("expected a failure");
}

describe("fingerprints (docs/keys.md vectors)", () => {
  const idKey = Uint8Array.from({ length: 32 }, (_, i) => i);
  it("id-key fingerprint is SHA-256 of the domain string and the key", () => {
    expect(idKeyFingerprint(idKey)).toBe("dcc779eeb05fc87fe8463beca79e73aa1c00a5efb2f0983fd96f1a470868f549");
  });
  it("keyset binds the sorted recipients and the id-key fingerprint", () => {
    const fp = idKeyFingerprint(idKey);
    const a = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj";
    const b = "age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg";
    expect(keysetOf([a, b], fp)).toBe("9caf8beedee9e5aaebfded9a7fd10db7af5dd9221a2faae6f4d50d33aeb5c90d");
    expect(keysetOf([b, a], fp)).toBe(keysetOf([a, b], fp));
    expect(keysetOf([a], fp)).not.toBe(keysetOf([a, b], fp));
    expect(keysetOf([a, b], idKeyFingerprint(new Uint8Array(32)))).not.toBe(keysetOf([a, b], fp));
  });
});

describe("owner keys", () => {
  it("round-trips identity, recipient and repository secrets, and the age CLI uses the file", async () => {
    const made = await createOwnerKey();
    const file = path("owner.key");
    writeKeyFile(file, made.text, "owner key");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const owner = await readOwnerKey(file);
    expect(owner.identities).toEqual([made.identity]);
    expect(owner.recipients).toEqual([made.recipient]);
    expect(owner.recipients[0]).toMatch(/^age1[0-9a-z]{58}$/);
    expect(Buffer.from(owner.idKey!)).toEqual(Buffer.from(made.idKey));
    expect(Buffer.from(owner.chunkerSecret!)).toEqual(Buffer.from(made.chunkerSecret));
    expect(owner.idKeyFingerprint).toBe(idKeyFingerprint(made.idKey));

    const session = await newSession(owner.recipients);
    writeFileSync(join(tmp, "msg.age"), sealWithSession(session, Buffer.from("for the owner")));
    const r = spawnSync("age", ["-d", "-i", file, join(tmp, "msg.age")]);
    expect(r.stderr.toString()).toBe("");
    expect(r.stdout.toString()).toBe("for the owner");
  });

  it("makes a post-quantum hybrid owner key with --pq", async () => {
    const made = await createOwnerKey({ pq: true });
    expect(made.identity).toMatch(/^AGE-SECRET-KEY-PQ-1/);
    expect(made.recipient).toMatch(/^age1pq1/);
    const owner = await parseOwnerKey(made.text, "pq.key");
    const session = await newSession(owner.recipients);
    expect(Buffer.from(await openFile(sealWithSession(session, Buffer.from("pq")), owner.identities)).toString()).toBe("pq");
  });

  it("accepts a plain age identity file, without an id key", async () => {
    const file = path("age-keygen.key");
    const r = spawnSync("age-keygen", ["-o", file]);
    expect(r.status, r.stderr.toString()).toBe(0);
    const owner = await readOwnerKey(file);
    expect(owner.identities).toHaveLength(1);
    expect(owner.recipients[0]).toBe(readFileSync(file, "utf8").match(/public key: (age1\S+)/)![1]);
    expect(owner.idKey).toBeUndefined();
    expect(owner.idKeyFingerprint).toBeUndefined();
  });

  it("takes a pinned id-key fingerprint alone, and refuses one that disagrees with the id key", async () => {
    const id = await generateIdentity();
    const fp = "ab".repeat(32);
    const pinned = await parseOwnerKey(`# cairn-id-key-fingerprint: ${fp}\n${id}\n`, "pinned.key");
    expect(pinned.idKey).toBeUndefined();
    expect(pinned.idKeyFingerprint).toBe(fp);
    const made = await createOwnerKey();
    const e = await errorOf(parseOwnerKey(`${made.text}# cairn-id-key-fingerprint: ${fp}\n`, "both.key"));
    expect(e.kind).toBe("key");
    expect(e.message).toMatch(/does not match its pinned id-key fingerprint/);
  });

  it("protects the file with a passphrase; a wrong passphrase is a key error", async () => {
    const made = await createOwnerKey({ passphrase: "correct horse", workFactor: 10 });
    expect(made.text).toMatch(/^-----BEGIN AGE ENCRYPTED FILE-----\n/);
    expect(made.text).not.toContain("AGE-SECRET-KEY");
    const file = path("enc.key");
    writeKeyFile(file, made.text, "owner key");
    const owner = await readOwnerKey(file, { passphrase: "correct horse" });
    expect(owner.identities).toEqual([made.identity]);
    expect(Buffer.from(owner.idKey!)).toEqual(Buffer.from(made.idKey));
    const e = await errorOf(readOwnerKey(file, { passphrase: "wrong" }));
    expect(e.kind).toBe("key");
    expect(e.message).toBe(`owner key ${file}: wrong passphrase (or the file is not passphrase-encrypted)`);
  });

  describe("with CAIRN_PASSPHRASE", () => {
    beforeEach(() => vi.stubEnv("CAIRN_PASSPHRASE", "from the environment"));
    afterEach(() => vi.unstubAllEnvs());
    it("reads the passphrase from the environment", async () => {
      const made = await createOwnerKey({ passphrase: "from the environment", workFactor: 10 });
      const file = path("env.key");
      writeKeyFile(file, made.text, "owner key");
      expect((await readOwnerKey(file)).recipients).toEqual([made.recipient]);
    });
  });

  it("says only what is wrong with a readable file that is not a key (one line, no warning first)", async () => {
    const file = path("garbage.key");
    writeFileSync(file, "not a key\n", { mode: 0o644 });
    chmodSync(file, 0o644);
    const warn = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      await expect(readWriterKey(file)).rejects.toThrow(/writer key .*garbage.key/);
      await expect(readOwnerKey(file)).rejects.toThrow(/garbage.key/);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it("warns once on stderr when others can read the owner key", async () => {
    const made = await createOwnerKey();
    const file = path("open.key");
    writeFileSync(file, made.text, { mode: 0o644 });
    chmodSync(file, 0o644);
    const warn = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      await readOwnerKey(file);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(/^cairn: warning: owner key .* is accessible by others \(mode 0644\); run chmod 600 .*\n$/);
      chmodSync(file, 0o600);
      warn.mockClear();
      await readOwnerKey(file);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it("names what is wrong with a bad file", async () => {
    expect((await errorOf(readOwnerKey(join(tmp, "missing.key")))).kind).toBe("notFound");
    const e1 = await errorOf(parseOwnerKey("# just a comment\n", "empty.key"));
    expect([e1.kind, e1.message]).toEqual(["key", "owner key empty.key holds no age identity"]);
    const e2 = await errorOf(parseOwnerKey("hello\n", "junk.key"));
    expect([e2.kind, e2.message]).toEqual(["key", "owner key junk.key line 1: not an age identity"]);
    const e3 = await errorOf(parseOwnerKey("# cairn-id-key: 1234\nAGE-SECRET-KEY-1X\n", "short.key"));
    expect(e3.message).toBe("owner key short.key line 1: the id key is not 32 bytes of hex");
  });

  it("refuses to overwrite an existing key file", async () => {
    const file = path("exists.key");
    writeFileSync(file, "precious");
    const e = await errorOf(() => writeKeyFile(file, "new", "owner key"));
    expect(e.kind).toBe("refused");
    expect(readFileSync(file, "utf8")).toBe("precious");
  });
});

describe("writer keys", () => {
  async function ownerAndWriter() {
    const made = await createOwnerKey();
    const ownerFile = path("owner.key");
    writeKeyFile(ownerFile, made.text, "owner key");
    const owner = await readOwnerKey(ownerFile);
    const w = createWriterKey(owner);
    const writerFile = path("writer.key");
    writeKeyFile(writerFile, w.text, "writer key");
    return { made, owner, ownerFile, w, writerFile };
  }

  it("carries the owner's recipients and secrets and a signing key, and signs verifiably", async () => {
    const { made, owner, w, writerFile } = await ownerAndWriter();
    const writer = await readWriterKey(writerFile);
    expect(writer.recipients).toEqual(owner.recipients);
    expect(Buffer.from(writer.idKey)).toEqual(Buffer.from(made.idKey));
    expect(Buffer.from(writer.chunkerSecret)).toEqual(Buffer.from(made.chunkerSecret));
    expect(writer.publicKey).toBe(w.publicKey);
    expect(writer.publicKey).toMatch(/^[0-9a-f]{64}$/);
    expect(writer.keyset).toBe(keysetOf(owner.recipients, owner.idKeyFingerprint!));
    const { sign, verify } = await import("node:crypto");
    const { publicKeyFromHex } = await import("../src/index.js");
    const sig = sign(null, Buffer.from("clear part"), writer.signingKey);
    expect(verify(null, Buffer.from("clear part"), publicKeyFromHex(writer.publicKey), sig)).toBe(true);
    expect(verify(null, Buffer.from("clear parts"), publicKeyFromHex(writer.publicKey), sig)).toBe(false);
  });

  it("holds nothing that decrypts: what it seals, it cannot open", async () => {
    const { writerFile } = await ownerAndWriter();
    const text = readFileSync(writerFile, "utf8");
    expect(text).not.toMatch(/AGE-SECRET-KEY/);
    const writer = await readWriterKey(writerFile);
    const sealed = sealWithSession(await newSession(writer.recipients), Buffer.from("secret"));
    const e1 = await errorOf(readOwnerKey(writerFile));
    expect([e1.kind, e1.message]).toEqual(["key", `${writerFile} is a writer key: it can seal but not decrypt; use the owner key`]);
    // Nor does any key derivable from its secrets open it: the id key is not an identity.
    const stranger = await generateIdentity();
    expect((await errorOf(openFile(sealed, [stranger]))).kind).toBe("key");
  });

  it("works for a post-quantum owner: hybrid recipients in the writer key", async () => {
    const made = await createOwnerKey({ pq: true });
    const owner = await parseOwnerKey(made.text, "pq.key");
    const w = createWriterKey(owner);
    const file = path("pq-writer.key");
    writeKeyFile(file, w.text, "writer key");
    const writer = await readWriterKey(file);
    expect(writer.recipients).toEqual([made.recipient]);
    const sealed = sealWithSession(await newSession(writer.recipients), Buffer.from("pq data"));
    expect(Buffer.from(await openFile(sealed, owner.identities)).toString()).toBe("pq data");
  });

  it("each writer gets its own signing key", async () => {
    const { owner } = await ownerAndWriter();
    expect(createWriterKey(owner).publicKey).not.toBe(createWriterKey(owner).publicKey);
  });

  it("refuses an owner key without repository secrets", async () => {
    const id = await generateIdentity();
    const owner = await parseOwnerKey(`${id}\n`, "plain.key");
    const e = await errorOf(() => createWriterKey(owner));
    expect(e.kind).toBe("key");
  });

  it("detects a damaged or mismatched writer key", async () => {
    const { w, ownerFile } = await ownerAndWriter();
    const tampered = path("tampered.key");
    writeKeyFile(tampered, w.text.replace(/^public-key: (.)/m, (_, c) => `public-key: ${c === "0" ? "1" : "0"}`), "writer key");
    expect((await errorOf(readWriterKey(tampered))).message).toBe(`writer key ${tampered}: its public key does not match its signing key`);
    const other = path("other.key");
    writeKeyFile(other, w.text.replace(/^recipient: .*$/m, `recipient: ${await identityToRecipient(await generateIdentity())}`), "writer key");
    expect((await errorOf(readWriterKey(other))).message).toBe(`writer key ${other}: its keyset does not match its recipients and id key`);
    const e = await errorOf(readWriterKey(ownerFile));
    expect([e.kind, e.message]).toEqual(["key", `${ownerFile} is an owner key, not a writer key: make one with cairn key writer -i ${ownerFile}`]);
    expect((await errorOf(readWriterKey(join(tmp, "nope")))).kind).toBe("notFound");
  });
});

describe("trusted writers", () => {
  afterEach(() => vi.unstubAllEnvs());

  it("pins keys once, reads them back, and a missing file trusts no one", () => {
    const file = path("writers");
    expect(readTrustedWriters(file)).toEqual(new Set());
    const a = "aa".repeat(32);
    const b = "BB".repeat(32);
    expect(pinWriter(a, { path: file, note: "db host" })).toBe(true);
    expect(pinWriter(a, { path: file })).toBe(false);
    expect(pinWriter(b, { path: file })).toBe(true);
    expect(readTrustedWriters(file)).toEqual(new Set([a, b.toLowerCase()]));
    expect(readFileSync(file, "utf8")).toContain(`${a}  # db host\n`);
  });

  it("finds the file through CAIRN_WRITERS, then XDG_CONFIG_HOME", () => {
    vi.stubEnv("CAIRN_WRITERS", "/some/where");
    expect(trustFilePath()).toBe("/some/where");
    expect(trustFilePath("/explicit")).toBe("/explicit");
    vi.stubEnv("CAIRN_WRITERS", "");
    vi.stubEnv("XDG_CONFIG_HOME", "/xdg");
    expect(trustFilePath()).toBe("/xdg/cairn/writers");
  });

  it("rejects a malformed line and a malformed key", async () => {
    const file = path("bad-writers");
    writeFileSync(file, `${"aa".repeat(32)}\nnot-a-key\n`);
    const e = await errorOf(() => readTrustedWriters(file));
    expect([e.kind, e.message]).toEqual(["key", `trusted writers file ${file} line 2: not a hex Ed25519 public key`]);
    expect((await errorOf(() => pinWriter("abc", { path: file }))).kind).toBe("usage");
  });
});

describe("repository secrets (key objects)", () => {
  const secrets = { idKey: new Uint8Array(32).fill(1), chunkerSecret: new Uint8Array(32).fill(2), keyset: "ab".repeat(32) };

  it("read back what formatRepoSecrets writes, and a hand-made file without the version line", () => {
    expect(parseRepoSecrets(formatRepoSecrets(secrets), "keys/x")).toEqual(secrets);
    const bare = parseRepoSecrets(`cairn-id-key: ${"01".repeat(32)}\n`, "key file");
    expect(bare.idKey).toEqual(secrets.idKey);
  });

  it("refuse secrets of another version: a newer cairn's (11), not damage", async () => {
    const text = formatRepoSecrets(secrets).replace("secrets v1", "secrets v2");
    const err = await errorOf(() => parseRepoSecrets(text, "keys/x"));
    expect(err.kind).toBe("version");
    expect(err.message).toBe("keys/x holds repository secrets v2 (this build reads v1: a newer cairn wrote it)");
  });
});
