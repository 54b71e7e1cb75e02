import { describe, expect, it } from "vitest";
import { PathFilter, compilePattern } from "../src/glob.js";

const m = (pattern: string, path: string, isDir = false) => new PathFilter([pattern]).matches(path, isDir);

describe("gitignore-style patterns", () => {
  it("matches a name without a slash at any depth", () => {
    expect(m("*.log", "a.log")).toBe(true);
    expect(m("*.log", "x/y/a.log")).toBe(true);
    expect(m("*.log", "a.log.txt")).toBe(false);
    expect(m("cache", "srv/cache", true)).toBe(true);
  });

  it("anchors a pattern with a slash at its start or middle", () => {
    expect(m("/build", "build", true)).toBe(true);
    expect(m("/build", "src/build", true)).toBe(false);
    expect(m("src/*.tmp", "src/a.tmp")).toBe(true);
    expect(m("src/*.tmp", "x/src/a.tmp")).toBe(false);
  });

  it("never lets * or ? cross a slash", () => {
    expect(m("a*b", "a/b")).toBe(false);
    expect(m("a?b", "a/b")).toBe(false);
    expect(m("a?b", "axb")).toBe(true);
  });

  it("matches directories only when the pattern ends in a slash", () => {
    expect(m("tmp/", "tmp", true)).toBe(true);
    expect(m("tmp/", "tmp", false)).toBe(false);
    expect(m("tmp/", "a/tmp", true)).toBe(true);
  });

  it("gives ** its three meanings", () => {
    expect(m("**/foo", "foo")).toBe(true);
    expect(m("**/foo", "a/b/foo")).toBe(true);
    expect(m("abc/**", "abc/x/y")).toBe(true);
    expect(m("abc/**", "abc", true)).toBe(false);
    expect(m("a/**/b", "a/b")).toBe(true);
    expect(m("a/**/b", "a/x/y/b")).toBe(true);
    expect(m("a/**/b", "a/x/c")).toBe(false);
  });

  it("supports classes, negated classes and escapes", () => {
    expect(m("file[0-9].txt", "file7.txt")).toBe(true);
    expect(m("file[!0-9].txt", "file7.txt")).toBe(false);
    expect(m("file[!0-9].txt", "fileX.txt")).toBe(true);
    expect(m("\\*.txt", "*.txt")).toBe(true);
    expect(m("\\*.txt", "a.txt")).toBe(false);
    expect(m("a.b", "axb")).toBe(false);
  });

  it("lets a later ! pattern re-include, the last match deciding", () => {
    const f = new PathFilter(["*.log", "!keep.log"]);
    expect(f.matches("x.log", false)).toBe(true);
    expect(f.matches("keep.log", false)).toBe(false);
    expect(new PathFilter(["!keep.log", "*.log"]).matches("keep.log", false)).toBe(true);
  });

  it("matches a path inside a matching directory for --include", () => {
    const f = new PathFilter(["srv/data/"]);
    expect(f.matchesWithin("srv/data/app.conf", false)).toBe(true);
    expect(f.matchesWithin("srv/data", true)).toBe(true);
    expect(f.matchesWithin("srv/other/app.conf", false)).toBe(false);
    expect(f.matchesWithin("srv", true)).toBe(false);
  });

  it("treats an unclosed [ as a literal", () => {
    expect(compilePattern("a[b").regex.test("a[b")).toBe(true);
  });
});
