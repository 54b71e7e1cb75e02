import { describe, expect, it } from "vitest";
import { CairnError } from "@cairn/errors";
import { encodeConfig, newConfig, parseConfig } from "../src/config.js";

const bytesOf = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const refusal = (bytes: Uint8Array) => {
  try {
    parseConfig(bytes, "cfg");
  } catch (err) {
    expect(err).toBeInstanceOf(CairnError);
    return { kind: (err as CairnError).kind, message: (err as CairnError).message };
  }
  throw new Error("parseConfig accepted it");
};

describe("repository config", () => {
  const good = newConfig({ keyset: "ab".repeat(32) });

  it("reads back what encodeConfig wrote", () => {
    expect(parseConfig(encodeConfig(good))).toEqual(good);
  });

  it("names what is wrong: not JSON, not a repository, an unknown version, a bad id, keyset or pack size", () => {
    expect(refusal(new TextEncoder().encode("{"))).toEqual({ kind: "integrity", message: "cfg is not valid JSON: not a cairn repository, or damaged" });
    expect(refusal(bytesOf([1]))).toEqual({ kind: "integrity", message: "cfg does not describe a cairn repository" });
    expect(refusal(bytesOf(null))).toEqual({ kind: "integrity", message: "cfg does not describe a cairn repository" });
    expect(refusal(bytesOf({ ...good, version: 99 }))).toEqual({ kind: "version", message: "repository format version 99 is not supported (this build reads version 1)" });
    expect(refusal(bytesOf({ ...good, id: "AB".repeat(32) }))).toEqual({ kind: "integrity", message: "cfg has no valid repository id" });
    expect(refusal(bytesOf({ ...good, keyset: "" }))).toEqual({ kind: "integrity", message: "cfg has no key-set fingerprint" });
    expect(refusal(bytesOf({ ...good, packSize: "4096" }))).toEqual({ kind: "integrity", message: "cfg has an invalid pack size: 4096" });
    expect(refusal(bytesOf({ ...good, packSize: 1023 }))).toEqual({ kind: "integrity", message: "cfg has an invalid pack size: 1023" });
    expect(refusal(bytesOf({ ...good, packSize: 4096.5 }))).toEqual({ kind: "integrity", message: "cfg has an invalid pack size: 4096.5" });
  });
});
