// cairn init end to end: keys made or taken from files, the writer pinned, the key object sealed
// to the owner, and refusals (existing repository, a writer key of another owner).
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "./helpers/cli.js";
import { cairnA } from "./helpers/async-cli.js";

const dir = tempDir("cairn-init-");
afterAll(() => dir.cleanup());
const at = (name: string) => join(dir.path, name);
const env = { CAIRN_WRITERS: at("writers"), CAIRN_CACHE: at("cache"), CAIRN_PASSPHRASE: "" };

describe("cairn init", () => {
  it("without key files prints a new owner key and writer key, pins the writer, and seals the key object to the owner", async () => {
    const r = await cairnA(["init", `file://${at("r1")}`], { env });
    expect(r.status).toBe(0);
    const out = r.stdout.toString();
    expect(out).toMatch(/^# cairn owner key v1/m);
    expect(out).toMatch(/^AGE-SECRET-KEY-1/m);
    expect(out).toMatch(/^cairn-writer-key: v1$/m);
    const writer = /^public-key: ([0-9a-f]{64})$/m.exec(out)![1];
    expect(readFileSync(at("writers"), "utf8")).toContain(writer);
    const config = JSON.parse(readFileSync(at("r1/config"), "utf8"));
    expect(config).toMatchObject({ cairn: "repository", version: 1, packSize: 32 * 1024 * 1024 });
    expect(config.keyset).toBe(/^keyset: ([0-9a-f]+)$/m.exec(out)![1]);
    const [keyObject] = readdirSync(at("r1/keys"));
    expect(readFileSync(at(`r1/keys/${keyObject}`)).subarray(0, 21).toString()).toBe("age-encryption.org/v1");
  });

  it("creates key files where asked, and uses existing ones on the next repository", async () => {
    const first = await cairnA(["init", `file://${at("r2")}`, "--owner-key", at("o.key"), "--writer-key", at("w.key")], { env });
    expect(first.status).toBe(0);
    expect(first.stdout.toString()).toBe("");
    const second = await cairnA(["init", `file://${at("r3")}`, "--owner-key", at("o.key"), "--writer-key", at("w.key"), "--json"], { env });
    expect(second.status).toBe(0);
    const keyset = (p: string) => JSON.parse(readFileSync(at(`${p}/config`), "utf8")).keyset;
    expect(keyset("r3")).toBe(keyset("r2"));
    expect(JSON.parse(second.stdout.toString())).toMatchObject({ keyset: keyset("r2") });
  });

  it("refuses to overwrite a repository (exit 18) and a writer key of another owner (exit 14)", async () => {
    const again = await cairnA(["init", `file://${at("r2")}`, "--writer-key", at("w.key")], { env });
    expect(again.status).toBe(18);
    expect(again.stderr).toMatch(/already holds a repository/);
    const other = await cairnA(["init", `file://${at("r4")}`, "--owner-key", at("o2.key"), "--writer-key", at("w2.key")], { env });
    expect(other.status).toBe(0);
    const mixed = await cairnA(["init", `file://${at("r5")}`, "--owner-key", at("o.key"), "--writer-key", at("w2.key")], { env });
    expect(mixed.status).toBe(14);
    expect(mixed.stderr).toMatch(/writer key was not derived from this owner key/);
    expect(() => readdirSync(at("r5"))).toThrow();
  });
});
