import { describe, expect, it } from "vitest";
import { components, unsafePathReason } from "../src/entry-path.js";

const why = (s: string) => unsafePathReason(Buffer.from(s));

describe("entry paths", () => {
  it("accepts relative paths, any bytes but NUL and /", () => {
    expect(why("a")).toBeUndefined();
    expect(why("a/b/c.txt")).toBeUndefined();
    expect(why("...")).toBeUndefined();
    expect(why("a/..b")).toBeUndefined();
    expect(unsafePathReason(Buffer.from([0x61, 0xff, 0x2f, 0xfe]))).toBeUndefined();
  });

  it("refuses what could name a place outside the restore directory", () => {
    expect(why("/etc/passwd")).toBe("it is absolute");
    expect(why("..")).toBe('it has a ".." component');
    expect(why("a/../../b")).toBe('it has a ".." component');
    expect(why("a/..")).toBe('it has a ".." component');
    expect(why("./a")).toBe('it has a "." component');
    expect(why("a//b")).toBe("it has an empty component");
    expect(why("a/")).toBe("it has an empty component");
    expect(why("")).toBe("it is empty");
    expect(why("a\0b")).toBe("it contains a NUL byte");
  });

  it("splits into components", () => {
    expect(components(Buffer.from("a/bc/d")).map(String)).toEqual(["a", "bc", "d"]);
  });
});
