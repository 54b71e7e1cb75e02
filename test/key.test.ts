// `cairn key` end to end: the real binary, its files, and the real `age` CLI reading them.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
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
