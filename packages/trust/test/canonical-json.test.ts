import { describe, expect, it } from "vitest";
import { canonicalJson } from "../src/index.js";

describe("canonical JSON (RFC 8785 for COMMIT's values)", () => {
  it("sorts keys by UTF-16 code units at every level, without whitespace", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: "x" }, A: true, "\u00e9": null, "\ud83d\ude00": 0, "\ufb33": 0 })).toBe(
      '{"A":true,"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1,"\u00e9":null,"\ud83d\ude00":0,"\ufb33":0}',
    );
  });

  it("writes strings and numbers as JSON.stringify does", () => {
    expect(canonicalJson(["\u2028", "\u0007", 'q"\\', 1e21, 1.5, -0, 1234567890123])).toBe('["\u2028","\\u0007","q\\"\\\\",1e+21,1.5,0,1234567890123]');
  });

  it("leaves out undefined members and refuses what JSON cannot hold", () => {
    expect(canonicalJson({ a: undefined, b: 2 })).toBe('{"b":2}');
    expect(() => canonicalJson({ a: NaN })).toThrow(/no form/);
    expect(() => canonicalJson({ a: () => 1 })).toThrow(/no form/);
  });
});
