import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zstdCompressSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { CairnError } from "@cairn/errors";
import {
  FileKeyCache, generateHybridIdentity, generateIdentity, identityToRecipient, newSession, openFile, parseHeader, sealWithSession,
} from "../src/index.js";

const tmp = mkdtempSync(join(tmpdir(), "cairn-age-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function errorOf(p: Promise<unknown>): Promise<CairnError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(CairnError);
    return err as CairnError;
  }
  throw new Error("expected a failure");
}

describe("sessions", () => {
  it("seals many files under one header, each with its own nonce, and opens them", async () => {
    const id = await generateIdentity();
    const session = await newSession([await identityToRecipient(id)]);
    const plaintexts = [0, 1, 65535, 65536, 65537, 3 * 65536, 1 << 20].map((n) => randomBytes(n));
    const files = plaintexts.map((p) => sealWithSession(session, p));
    const nonces = new Set<string>();
    const cache = new FileKeyCache();
    for (const [i, f] of files.entries()) {
      expect(Buffer.from(f.subarray(0, session.header.length))).toEqual(Buffer.from(session.header));
      nonces.add(Buffer.from(f.subarray(session.header.length, session.header.length + 16)).toString("hex"));
      expect(Buffer.from(await openFile(f, [id], cache))).toEqual(plaintexts[i]);
    }
    expect(nonces.size).toBe(files.length);
    expect(cache.size).toBe(1);
  });

  it("a cached file key never opens a file for a caller with other identities", async () => {
    const id = await generateIdentity();
    const session = await newSession([await identityToRecipient(id)]);
    const file = sealWithSession(session, Buffer.from("mine"));
    const cache = new FileKeyCache();
    expect(Buffer.from(await openFile(file, [id], cache)).toString()).toBe("mine");
    const e = await errorOf(openFile(file, [await generateIdentity()], cache));
    expect(e.kind).toBe("key");
  });

  it("concurrent opens of files under a new header share one cache entry; a failed unwrap is not cached", async () => {
    const id = await generateIdentity();
    const session = await newSession([await identityToRecipient(id)]);
    const files = Array.from({ length: 8 }, (_, i) => sealWithSession(session, Buffer.from(`file ${i}`)));
    const cache = new FileKeyCache(2);
    const opened = await Promise.all(files.map((f) => openFile(f, [id], cache)));
    expect(opened.map((p) => Buffer.from(p).toString())).toEqual(files.map((_, i) => `file ${i}`));
    expect(cache.size).toBe(1);
    const other = await newSession([await identityToRecipient(await generateIdentity())]);
    await errorOf(openFile(sealWithSession(other, Buffer.from("x")), [id], cache));
    expect(cache.size).toBe(1);
    for (let i = 0; i < 3; i++) await openFile(sealWithSession(await newSession([await identityToRecipient(id)]), Buffer.from("y")), [id], cache);
    expect(cache.size).toBe(2);
  });

  it("sealing the same plaintext twice gives different files", async () => {
    const session = await newSession([await identityToRecipient(await generateIdentity())]);
    const a = sealWithSession(session, Buffer.from("same"));
    const b = sealWithSession(session, Buffer.from("same"));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  it("seals to a hybrid recipient and to several recipients at once", async () => {
    const pq = await generateHybridIdentity();
    const x = await generateIdentity();
    const session = await newSession([await identityToRecipient(pq), await identityToRecipient(x)]);
    expect(parseHeader(session.header).stanzas.map((s) => s.args[0])).toEqual(["mlkem768x25519", "X25519"]);
    const file = sealWithSession(session, Buffer.from("both"));
    expect(Buffer.from(await openFile(file, [pq])).toString()).toBe("both");
    expect(Buffer.from(await openFile(file, [x])).toString()).toBe("both");
  });

  it("a wrong identity is a key error", async () => {
    const session = await newSession([await identityToRecipient(await generateIdentity())]);
    const e = await errorOf(openFile(sealWithSession(session, Buffer.from("x")), [await generateIdentity()]));
    expect(e.kind).toBe("key");
    expect(e.message).toMatch(/no identity matches/);
  });

  it("a tampered payload, header or truncated file is an integrity error naming the part", async () => {
    const id = await generateIdentity();
    const session = await newSession([await identityToRecipient(id)]);
    const file = sealWithSession(session, randomBytes(100_000));
    const cache = new FileKeyCache();
    const payloadFlip = Uint8Array.from(file);
    payloadFlip[payloadFlip.length - 20] ^= 1;
    expect((await errorOf(openFile(payloadFlip, [id], cache))).message).toMatch(/^age payload: chunk 1 of 2 fails authentication/);
    expect((await errorOf(openFile(file.subarray(0, file.length - 1), [id], cache))).message).toMatch(/^age payload:/);
    expect((await errorOf(openFile(file.subarray(0, 70_000), [id], cache))).message).toMatch(/^age payload:/);
    const macFlip = Uint8Array.from(file);
    macFlip[session.header.length - 5] ^= 1; // a base64 character of the MAC
    const e = await errorOf(openFile(macFlip, [id], new FileKeyCache()));
    expect(e.kind).toBe("integrity");
    expect(e.message).toMatch(/^age header/);
    expect((await errorOf(openFile(file.subarray(0, 30), [id]))).message).toMatch(/^age header: truncated/);
  });

  it("rejects an empty recipient list and a malformed recipient as key errors", async () => {
    expect((await errorOf(newSession([]))).kind).toBe("key");
    expect((await errorOf(newSession(["age1notarecipient"]))).kind).toBe("key");
  });
});

describe("interop with the age CLI", () => {
  it("files made by `age -e -r` decrypt with openFile", async () => {
    const id = await generateIdentity();
    const plaintext = randomBytes(200_000);
    writeFileSync(join(tmp, "in"), plaintext);
    const r = spawnSync("age", ["-e", "-r", await identityToRecipient(id), "-o", join(tmp, "in.age"), join(tmp, "in")]);
    expect(r.status, r.stderr?.toString()).toBe(0);
    expect(Buffer.from(await openFile(readFileSync(join(tmp, "in.age")), [id]))).toEqual(plaintext);
  });

  it("files sealed with a session decrypt with `age -d -i`, and `| zstd -d` for zstd frames", async () => {
    const id = await generateIdentity();
    writeFileSync(join(tmp, "id.key"), `${id}\n`);
    const session = await newSession([await identityToRecipient(id)]);
    const text = Buffer.from("a chunk of text that compresses well. ".repeat(5000));
    writeFileSync(join(tmp, "chunk.age"), sealWithSession(session, zstdCompressSync(text)));
    const r = spawnSync("bash", ["-c", `set -o pipefail; age -d -i ${tmp}/id.key ${tmp}/chunk.age | zstd -d`], { maxBuffer: 1 << 26 });
    expect(r.status, r.stderr?.toString()).toBe(0);
    expect(r.stdout.equals(text)).toBe(true);
    const raw = randomBytes(3 * 65536);
    writeFileSync(join(tmp, "raw.age"), sealWithSession(session, raw));
    const d = spawnSync("age", ["-d", "-i", join(tmp, "id.key"), join(tmp, "raw.age")], { maxBuffer: 1 << 26 });
    expect(d.status, d.stderr?.toString()).toBe(0);
    expect(d.stdout.equals(raw)).toBe(true);
  });
});
