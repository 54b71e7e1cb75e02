import { describe, expect, it } from "vitest";
import { normalizeReadData } from "../src/cli.js";

describe("--read-data takes an optional value", () => {
  it("keeps a subset that follows it", () => {
    expect(normalizeReadData(["REPO", "--read-data", "1/7"])).toEqual(["REPO", "--read-data", "1/7"]);
    expect(normalizeReadData(["--read-data", "10%", "REPO"])).toEqual(["--read-data", "10%", "REPO"]);
    expect(normalizeReadData(["--read-data", "all", "REPO"])).toEqual(["--read-data", "all", "REPO"]);
  });

  it("means every pack when followed by a flag, the repository, or nothing", () => {
    expect(normalizeReadData(["--read-data", "-i", "owner.key", "REPO"])).toEqual(["--read-data=all", "-i", "owner.key", "REPO"]);
    expect(normalizeReadData(["--read-data", "file:///r"])).toEqual(["--read-data=all", "file:///r"]);
    expect(normalizeReadData(["REPO", "--read-data"])).toEqual(["REPO", "--read-data=all"]);
  });

  it("leaves everything after -- alone", () => {
    expect(normalizeReadData(["REPO", "--", "--read-data"])).toEqual(["REPO", "--", "--read-data"]);
  });
});
