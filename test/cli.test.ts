import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CAIRN, cairn } from "./helpers/cli.js";

describe("the cairn command", () => {
  it("lists every tool with --help, and exits 2 with the list when given none", () => {
    const help = cairn(["--help"]);
    expect(help.status).toBe(0);
    for (const tool of ["snapshot", "chunk", "seal", "push", "pull", "verify", "prune", "init", "key", "ls", "inspect", "backup", "restore"]) {
      expect(help.stdout.toString()).toMatch(new RegExp(`^  ${tool} `, "m"));
    }
    expect(cairn([]).status).toBe(2);
  });

  it("prints its version", () => {
    const r = cairn(["--version"]);
    expect(r.status).toBe(0);
    expect(r.stdout.toString().trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("refuses an unknown tool with one line and exit 2", () => {
    const r = cairn(["frobnicate"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('cairn: unknown tool "frobnicate" (cairn --help lists them)\n');
  });

  it("shows a subcommand's own flags for `cairn key new --help`", () => {
    const r = cairn(["key", "new", "--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toContain("--pq");
    expect(r.stdout.toString()).not.toContain("COMMANDS");
  });

  it("turns a usage mistake into one line and exit 2", () => {
    const r = cairn(["pull"]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^cairn-pull: .*(REPO|required)/i);
  });

  // The machine's own Node is older than 22.15; the launcher must say so instead of crashing.
  it.runIf(existsSync("/usr/bin/node"))("says clearly that an older Node is too old", () => {
    const version = spawnSync("/usr/bin/node", ["-p", "process.versions.node"], { encoding: "utf8" }).stdout.trim();
    const [major, minor] = version.split(".").map(Number);
    const old = major < 22 || (major === 22 && minor < 15);
    const r = spawnSync("/usr/bin/node", [CAIRN, "--version"], { encoding: "utf8" });
    if (old) {
      expect(r.status).toBe(2);
      expect(r.stderr).toContain("requires Node.js >= 22.15");
    } else {
      expect(r.status).toBe(0);
    }
  });
});
