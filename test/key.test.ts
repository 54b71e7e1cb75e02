// `cairn key` end to end: the real binary, its files, and the real `age` CLI reading them.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cairn, sh, tempDir } from "./helpers/cli.js";

const dir = tempDir("cairn-key-");
afterAll(() => dir.cleanup());
const at = (name: string) => join(dir.path, name);
const writers = at("writers");
const env = { CAIRN_WRITERS: writers, CAIRN_PASSPHRASE: "" };

describe("cairn key", () => {
  it("new -o writes a 0600 owner key the age CLI decrypts with, and prints its recipient", () => {
    const r = cairn(["key", "new", "-o", at("owner.key")], { env });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const recipient = r.stdout.toString().trim();
    expect(recipient).toMatch(/^age1[0-9a-z]{58}$/);
    expect(statSync(at("owner.key")).mode & 0o777).toBe(0o600);
    const text = readFileSync(at("owner.key"), "utf8");
    expect(text).toMatch(/^# cairn-id-key: [0-9a-f]{64}$/m);
    expect(text).toMatch(/^# cairn-chunker-secret: [0-9a-f]{64}$/m);
    const p = sh(`echo hello | age -e -r ${recipient} | age -d -i ${at("owner.key")}`);
    expect(p.stdout.toString()).toBe("hello\n");
  });

  it("new without -o writes the key to stdout and the public key to stderr; --pq makes a hybrid identity", () => {
    const r = cairn(["key", "new", "--pq"], { env });
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toMatch(/^AGE-SECRET-KEY-PQ-1[0-9A-Z]+$/m);
    expect(r.stderr).toMatch(/^Public key: age1pq1[0-9a-z]+\n$/);
  });

  it("new refuses to overwrite a file (exit 18)", () => {
    writeFileSync(at("taken.key"), "x");
    const r = cairn(["key", "new", "-o", at("taken.key")], { env });
    expect(r.status).toBe(18);
    expect(r.stderr).toBe(`cairn-key: owner key ${at("taken.key")} already exists; not overwriting it\n`);
    expect(readFileSync(at("taken.key"), "utf8")).toBe("x");
  });

  it("writer derives a writer key, pins it, and show prints the public parts of both", () => {
    const r = cairn(["key", "writer", "-i", at("owner.key"), "-o", at("writer.key"), "--name", "host-a"], { env });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const pub = r.stdout.toString().trim();
    expect(pub).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(at("writer.key")).mode & 0o777).toBe(0o600);
    expect(readFileSync(writers, "utf8")).toMatch(new RegExp(`^${pub}  # host-a, \\d{4}-\\d\\d-\\d\\d$`, "m"));

    const w = JSON.parse(cairn(["key", "show", "--json", at("writer.key")], { env }).stdout.toString());
    const o = JSON.parse(cairn(["key", "show", "--json", at("owner.key")], { env }).stdout.toString());
    expect(w).toMatchObject({ type: "writer", writerPublicKey: pub, recipients: o.recipients, idKeyFingerprint: o.idKeyFingerprint, keyset: o.keyset });
    expect(o.type).toBe("owner");
    const text = cairn(["key", "show", at("writer.key")], { env }).stdout.toString();
    expect(text).toContain(`writer public key: ${pub}\n`);
    expect(text).not.toMatch(/[0-9a-f]{64}\n.*signing/);
  });

  it("writer refuses a writer key as the owner (exit 14) and a missing owner key (exit 15)", () => {
    const r = cairn(["key", "writer", "-i", at("writer.key")], { env });
    expect(r.status).toBe(14);
    expect(r.stderr).toBe(`cairn-key: ${at("writer.key")} is a writer key: it can seal but not decrypt; use the owner key\n`);
    const m = cairn(["key", "writer", "-i", at("missing.key")], { env });
    expect(m.status).toBe(15);
    expect(m.stderr).toBe(`cairn-key: owner key ${at("missing.key")} does not exist\n`);
  });

  it("show on a plain age-keygen identity says it pins no id key", () => {
    expect(sh(`age-keygen -o ${at("plain.key")}`).status).toBe(0);
    const r = cairn(["key", "show", at("plain.key")], { env });
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toMatch(/^type: owner\nrecipient: age1[0-9a-z]{58}\nid-key fingerprint: none \(a plain age identity: readers need --trust-repo-key\)\n$/);
  });

  it("writer without -o prints the key on stdout and the public key on stderr", () => {
    const r = cairn(["key", "writer", "-i", at("owner.key")], { env });
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toMatch(/^cairn-writer-key: v1$/m);
    const pub = /^Writer public key: ([0-9a-f]{64}) \(pinned in (.*)\)\n$/.exec(r.stderr);
    expect(pub?.[2]).toBe(writers);
    expect(r.stdout.toString()).toContain(`public-key: ${pub?.[1]}\n`);
  });

  it("pin adds a key to the trust file once; a malformed key is a usage error", () => {
    const key = "c0".repeat(32);
    expect(cairn(["key", "pin", key], { env }).status).toBe(0);
    expect(cairn(["key", "pin", key], { env }).stderr).toBe(`already pinned in ${writers}\n`);
    expect(readFileSync(writers, "utf8").split(key).length).toBe(2);
    const bad = cairn(["key", "pin", "xyz"], { env });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe("cairn-key: not a writer public key (64 hex characters): xyz\n");
  });

  describe("passphrase-protected owner keys", () => {
    const pass = at("pass");

    it("new --passphrase-file writes an armored scrypt file; show and writer open it; a wrong passphrase exits 14", () => {
      writeFileSync(pass, "tr0ub4dor&3\n");
      const r = cairn(["key", "new", "--passphrase-file", pass, "--work-factor", "12", "-o", at("enc.key")], { env });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(readFileSync(at("enc.key"), "utf8")).toMatch(/^-----BEGIN AGE ENCRYPTED FILE-----\n/);
      const shown = cairn(["key", "show", "--passphrase-file", pass, at("enc.key")], { env });
      expect(shown.stdout.toString()).toContain(`type: owner (passphrase-protected)\nrecipient: ${r.stdout.toString().trim()}\n`);
      expect(cairn(["key", "show", at("enc.key")], { env: { ...env, CAIRN_PASSPHRASE: "tr0ub4dor&3" } }).status).toBe(0);
      writeFileSync(at("wrong"), "Tr0ub4dor&3\n");
      const wrong = cairn(["key", "writer", "-i", at("enc.key"), "--passphrase-file", at("wrong")], { env });
      expect(wrong.status).toBe(14);
      expect(wrong.stderr).toBe(`cairn-key: owner key ${at("enc.key")}: wrong passphrase (or the file is not passphrase-encrypted)\n`);
    });

    it("without a passphrase and without a terminal, says how to give one (exit 14)", () => {
      const r = spawnSync("setsid", ["-w", process.execPath, join(__dirname, "../packages/cairn/bin/cairn.js"), "key", "show", at("enc.key")], {
        env: { ...process.env, ...env },
      });
      expect(r.status).toBe(14);
      expect(r.stderr.toString()).toBe("cairn-key: a passphrase is needed and there is no terminal to ask: set CAIRN_PASSPHRASE or use --passphrase-file\n");
    });

    it("new --passphrase asks twice on the terminal; different answers exit 14 and write nothing", () => {
      const ok = sh(`printf 'pw one\\npw one\\n' | script -qec "cairn key new --passphrase --work-factor 10 -o ${at("tty.key")}" /dev/null`, { env });
      expect(ok.status, ok.stdout.toString()).toBe(0);
      expect(ok.stdout.toString()).toMatch(/Passphrase for the new owner key: \r?\nConfirm passphrase: \r?\nage1[0-9a-z]{58}/);
      expect(cairn(["key", "show", at("tty.key")], { env: { ...env, CAIRN_PASSPHRASE: "pw one" } }).status).toBe(0);
      const bad = sh(`printf 'pw one\\npw two\\n' | script -qec "cairn key new --passphrase -o ${at("tty2.key")}; echo exit=\\$?" /dev/null`, { env });
      expect(bad.stdout.toString()).toContain("cairn-key: the passphrases do not match\r\nexit=14");
      expect(existsSync(at("tty2.key"))).toBe(false);
    });

    it("prompts on the terminal, and `age -d -i` still uses the encrypted file", () => {
      const recipient = cairn(["key", "show", "--json", "--passphrase-file", pass, at("enc.key")], { env }).stdout.toString();
      const r0 = JSON.parse(recipient).recipients[0];
      expect(sh(`echo 'for the owner' | age -e -r ${r0} -o ${at("msg.age")}`).status).toBe(0);
      // `script` gives each command a terminal whose input is our stdin.
      const a = sh(`echo 'tr0ub4dor&3' | script -qec "age -d -i ${at("enc.key")} -o ${at("msg.txt")} ${at("msg.age")}" /dev/null`);
      expect(a.status, a.stdout.toString()).toBe(0);
      expect(readFileSync(at("msg.txt"), "utf8")).toBe("for the owner\n");
      const c = sh(`echo 'tr0ub4dor&3' | script -qec "cairn key show --json ${at("enc.key")}" /dev/null`, { env });
      expect(c.status, c.stdout.toString()).toBe(0);
      expect(c.stdout.toString()).toContain(`"recipients":["${r0}"]`);
      // Typed-ahead input is echoed by the terminal before the prompt; after it, nothing is.
      expect(c.stdout.toString().split("enc.key: ")[1]).not.toContain("tr0ub4dor");
    });
  });
});

describe("disaster recovery: an owner who kept only the age identity", () => {
  // A repository with one backup; then everything but the identity line of the owner key is lost
  // (beforeAll). The tests run in order: the planted key object stays for the last one.
  const repo = `file://${at("dr-repo")}`;
  const drEnv = { ...env, CAIRN_CACHE: at("dr-cache") };
  const run = (script: string) => sh(script, { cwd: dir.path, env: drEnv });
  let fingerprint = "";
  let keyObject = "";

  beforeAll(() => {
    const r = run(
      `cairn key new -o dr-owner.key >/dev/null && cairn init ${repo} --owner-key dr-owner.key --writer-key dr-writer.key 2>/dev/null && ` +
        `mkdir -p dr-src && echo first > dr-src/a && head -c 2000000 /dev/urandom > dr-src/b && cairn backup -k dr-writer.key ${repo} dr-src >/dev/null && ` +
        `grep '^AGE-SECRET-KEY' dr-owner.key > dr-plain.key && chmod 600 dr-plain.key && ls dr-repo/keys`,
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    keyObject = `keys/${r.stdout.toString().trim()}`;
    fingerprint = JSON.parse(cairn(["key", "show", "--json", at("dr-owner.key")], { env }).stdout.toString()).idKeyFingerprint;
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it("the restore pipeline takes the repository's key file with --repo-key, only with --trust-repo-key (exit 14 without)", () => {
    const pipeline = (trust: string) =>
      run(
        `cp dr-repo/${keyObject} dr-repokey.age && rm -rf dr-out && cairn pull -i dr-plain.key ${repo} latest ` +
          `| cairn seal -d -i dr-plain.key --repo-key dr-repokey.age --trust-repo-key | cairn chunk -d -i dr-plain.key --repo-key dr-repokey.age ${trust} | cairn snapshot -x dr-out`,
      );
    const refused = pipeline("");
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain(`cairn-chunk: no id-key fingerprint is pinned, so the id key in repository key file dr-repokey.age cannot be checked: add --trust-repo-key to accept it (fingerprint ${fingerprint})\n`);
    expect(existsSync(at("dr-out/dr-src/b"))).toBe(false);
    const r = pipeline("--trust-repo-key");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(run("diff -r dr-src dr-out/dr-src").status).toBe(0);
  });

  it("key recover refuses to take the id key unchecked (exit 14) and names the fingerprint to compare", () => {
    const r = cairn(["key", "recover", "-i", at("dr-plain.key"), repo, "-o", at("dr-rec0.key")], { env: drEnv });
    expect(r.status).toBe(14);
    expect(r.stderr).toBe(
      `cairn-key: no id-key fingerprint is pinned, so the id key in key object ${keyObject} cannot be checked: give the fingerprint you kept with --fingerprint HEX, or add --trust-repo-key to accept it (fingerprint ${fingerprint})\n`,
    );
    expect(existsSync(at("dr-rec0.key"))).toBe(false);
  });

  it("with the fingerprint kept, it picks the real key object over a planted one and rebuilds the whole owner key", async () => {
    // Someone with write access to the bucket plants a key object with an id key of their own,
    // sealed to the owner's public recipient (all a planter needs).
    const { newSession, sealWithSession } = await import("@cairn/age");
    const { formatRepoSecrets } = await import("@cairn/keys");
    const recipient = JSON.parse(cairn(["key", "show", "--json", at("dr-owner.key")], { env }).stdout.toString()).recipients[0];
    const planted = sealWithSession(await newSession([recipient]), Buffer.from(formatRepoSecrets({ idKey: new Uint8Array(32).fill(9), chunkerSecret: new Uint8Array(32).fill(8), keyset: "00".repeat(32) })));
    writeFileSync(at("dr-repo/keys/0000000000000000000000000000000000000000000000000000000000000000"), planted);

    // Unpinned, two key objects with different id keys open: refused even with --trust-repo-key.
    const ambiguous = cairn(["key", "recover", "-i", at("dr-plain.key"), repo, "-o", at("dr-rec1.key"), "--trust-repo-key"], { env: drEnv });
    expect(ambiguous.status).toBe(14);
    expect(ambiguous.stderr).toMatch(/2 key objects in .* open with .* but hold different id keys \(one may be planted\): give the fingerprint you kept with --fingerprint\n$/);

    const r = cairn(["key", "recover", "-i", at("dr-plain.key"), repo, "-o", at("dr-rec.key"), "--fingerprint", fingerprint], { env: drEnv });
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toBe(`${fingerprint}\n`);
    expect(r.stderr).toBe(`cairn-key: recovered the owner key from ${keyObject} (id-key fingerprint ${fingerprint}) into ${at("dr-rec.key")}\n`);
    expect(statSync(at("dr-rec.key")).mode & 0o777).toBe(0o600);
    // The same identity and secrets as the lost owner key.
    const secrets = (file: string) => readFileSync(at(file), "utf8").split("\n").filter((l) => /^(# cairn-|AGE-SECRET-KEY)/.test(l));
    expect(secrets("dr-rec.key")).toEqual(secrets("dr-owner.key"));

    // It restores, and a new writer key made from it backs up to the same repository again.
    const again = run(
      `rm -rf dr-out2 && cairn restore -i dr-rec.key ${repo} latest -x dr-out2 && diff -r dr-src dr-out2/dr-src && ` +
        `cairn key writer -i dr-rec.key -o dr-writer2.key >/dev/null && echo second > dr-src/a && cairn backup -k dr-writer2.key ${repo} dr-src >/dev/null && ` +
        `cairn restore -i dr-rec.key ${repo} latest dr-src/a --stdout`,
    );
    expect(again.stderr).toBe("");
    expect(again.status).toBe(0);
    expect(again.stdout.toString()).toBe("second\n");
  });

  it("unpinned (--trust-repo-key), it takes the real key object, and refuses one planted in its place (the key set gives it away)", () => {
    const planted = "keys/0000000000000000000000000000000000000000000000000000000000000000";
    const r = run(
      `rm -rf dr-clean dr-swapped && cp -r dr-repo dr-clean && rm dr-clean/${planted} && cp -r dr-repo dr-swapped && rm dr-swapped/${keyObject} && ` +
        `cairn key recover -i dr-plain.key file://${at("dr-clean")} -o dr-rec3.key --trust-repo-key`,
    );
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toBe(`${fingerprint}\n`);
    const swapped = run(`cairn key recover -i dr-plain.key file://${at("dr-swapped")} -o dr-rec4.key --trust-repo-key`);
    expect(swapped.status).toBe(14);
    expect(swapped.stderr).toMatch(/^cairn-key: the id key in key object keys\/0{64} does not make the repository's key set with dr-plain.key \(config says [0-9a-f]{16}…\): possibly planted; give the fingerprint you kept with --fingerprint/);
    expect(existsSync(at("dr-rec4.key"))).toBe(false);
  });

  it("a key object of a later version: recover passes over it when the real one opens, and stops with 11 when only it is left", async () => {
    const { newSession, sealWithSession } = await import("@cairn/age");
    const { formatRepoSecrets } = await import("@cairn/keys");
    const recipient = JSON.parse(cairn(["key", "show", "--json", at("dr-owner.key")], { env }).stdout.toString()).recipients[0];
    const owner = readFileSync(at("dr-owner.key"), "utf8");
    const secret = (name: string) => Buffer.from(new RegExp(`^# cairn-${name}: ([0-9a-f]{64})$`, "m").exec(owner)![1], "hex");
    const text = formatRepoSecrets({ idKey: secret("id-key"), chunkerSecret: secret("chunker-secret"), keyset: "00".repeat(32) }).replace("secrets v1", "secrets v2");
    const newer = sealWithSession(await newSession([recipient]), Buffer.from(text));
    const later = "keys/1111111111111111111111111111111111111111111111111111111111111111";
    const r = run(`rm -rf dr-v2 && cp -r dr-repo dr-v2 && rm -f dr-v2/keys/${"0".repeat(64)}`);
    expect(r.status).toBe(0);
    writeFileSync(at(`dr-v2/${later}`), newer);
    const both = run(`cairn key recover -i dr-plain.key file://${at("dr-v2")} -o dr-rec5.key --fingerprint ${fingerprint}`);
    expect(both.stderr).toBe(`cairn-key: recovered the owner key from ${keyObject} (id-key fingerprint ${fingerprint}) into dr-rec5.key\n`);
    expect(both.status).toBe(0);

    rmSync(at(`dr-v2/${keyObject}`));
    const only = run(`cairn key recover -i dr-plain.key file://${at("dr-v2")} -o dr-rec6.key --fingerprint ${fingerprint}`);
    expect(only.stderr).toBe(`cairn-key: key object ${later} in file://${at("dr-v2")} holds repository secrets v2 (this build reads v1: a newer cairn wrote it)\n`);
    expect(only.status).toBe(11);
    expect(existsSync(at("dr-rec6.key"))).toBe(false);

    // The same object as a --repo-key file: 11 from the restore pipeline's seal -d.
    writeFileSync(at("dr-repokey-v2.age"), newer);
    const pipe = run(`cairn pull -i dr-plain.key ${repo} latest | cairn seal -d -i dr-plain.key --repo-key dr-repokey-v2.age --trust-repo-key > /dev/null`);
    expect(pipe.stderr.toString()).toContain("cairn-seal: repository key file dr-repokey-v2.age holds repository secrets v2 (this build reads v1: a newer cairn wrote it)\n");
    expect(pipe.status).toBe(11);
  });

  it("key recover with an identity that opens no key object: exit 14, nothing written", () => {
    const r = run(`cairn key new -o dr-stranger.key >/dev/null && cairn key recover -i dr-stranger.key ${repo} -o dr-rec2.key --trust-repo-key`);
    expect(r.status).toBe(14);
    expect(r.stderr).toMatch(/^cairn-key: file:\/\/.* holds \d+ key object\(s\), none of them opens with dr-stranger.key \(.*\): is this the repository's owner identity\?\n$/);
    expect(existsSync(at("dr-rec2.key"))).toBe(false);
  });
});
