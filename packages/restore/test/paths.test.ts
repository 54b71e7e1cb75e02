// `cairn restore … PATH…` restores exactly the entries named (and what lies under a directory),
// through snapshot -x's --include patterns: names are anchored and pattern characters are literal.
import { describe, expect, it } from "vitest";
import { PathFilter } from "@cairn/snapshot";
import { includePatterns } from "../src/index.js";

// As the extractors read --include: no pattern restores everything.
const matches = (paths: string[], entry: string, isDir = false) => {
  const include = new PathFilter(includePatterns(paths));
  return include.empty || include.matchesWithin(entry, isDir);
};

describe("includePatterns", () => {
  it("matches the entry named and what lies under it, nothing else", () => {
    expect(matches(["srv/data"], "srv/data", true)).toBe(true);
    expect(matches(["srv/data"], "srv/data/app.conf")).toBe(true);
    expect(matches(["srv/data/"], "srv/data/app.conf")).toBe(true);
    expect(matches(["srv/data"], "srv/database")).toBe(false);
    expect(matches(["srv/data"], "other/srv/data")).toBe(false);
  });

  it("anchors a top-level name, which a bare pattern would match at any depth", () => {
    expect(matches(["prod.sql"], "prod.sql")).toBe(true);
    expect(matches(["prod.sql"], "old/prod.sql")).toBe(false);
  });

  it("selects everything for / (or an empty PATH), as pull's selection does: they matched nothing, and the restore wrote nothing with exit 0", () => {
    for (const root of ["/", "", "//"]) {
      expect(matches([root], "srv/data/app.conf")).toBe(true);
      expect(matches([root, "srv/data"], "etc/passwd")).toBe(true);
    }
  });

  it("takes pattern characters in names literally", () => {
    expect(matches(["a*b/[x]?.txt"], "a*b/[x]?.txt")).toBe(true);
    expect(matches(["a*b/[x]?.txt"], "aXYb/x1.txt")).toBe(false);
    expect(matches(["back\\slash"], "back\\slash")).toBe(true);
  });
});
