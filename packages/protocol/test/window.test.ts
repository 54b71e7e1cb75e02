import { describe, expect, it } from "vitest";
import { MAX_WINDOW_CHUNKS, RefWindow } from "@cairn/protocol";

describe("RefWindow", () => {
  it("keeps the most recent chunks whose sizes fit the window, oldest out first", () => {
    const w = new RefWindow<string>(100);
    w.add("a", 40, "A");
    w.add("b", 40, "B");
    expect(w.has("a") && w.has("b")).toBe(true);
    w.add("c", 40, "C"); // 120 > 100: a goes
    expect(w.has("a")).toBe(false);
    expect(w.get("b")).toBe("B");
    expect(w.get("c")).toBe("C");
  });

  it("does not refresh a chunk that is sent as a reference (FIFO in send order, not LRU)", () => {
    const w = new RefWindow(100);
    w.add("a", 40, undefined);
    w.add("b", 40, undefined);
    w.add("a", 40, undefined); // already in the window: no change
    w.add("c", 40, undefined);
    expect(w.has("a")).toBe(false);
    expect(w.has("b")).toBe(true);
  });

  it("never keeps a chunk larger than the whole window", () => {
    const w = new RefWindow(100);
    w.add("a", 10, undefined);
    w.add("huge", 101, undefined);
    expect(w.has("huge")).toBe(false);
    expect(w.has("a")).toBe(true);
  });

  it("holds at most MAX_WINDOW_CHUNKS chunks however small", () => {
    const w = new RefWindow(1 << 30);
    for (let i = 0; i <= MAX_WINDOW_CHUNKS; i++) w.add(`c${i}`, 1, undefined);
    expect(w.has("c0")).toBe(false);
    expect(w.has("c1")).toBe(true);
    expect(w.has(`c${MAX_WINDOW_CHUNKS}`)).toBe(true);
  });
});

describe("RefWindow eviction", () => {
  it("hands each evicted value to onEvict, oldest first, and clear() evicts the rest", () => {
    const gone: string[] = [];
    const w = new RefWindow<string>(100, (v) => gone.push(v));
    w.add("a", 40, "A");
    w.add("b", 40, "B");
    w.add("a", 40, "A again"); // already there: kept as it was, nothing evicted
    expect(gone).toEqual([]);
    w.add("c", 40, "C");
    expect(gone).toEqual(["A"]);
    w.add("huge", 101, "H"); // never kept, so never evicted either
    expect(gone).toEqual(["A"]);
    w.clear();
    expect(gone).toEqual(["A", "B", "C"]);
    expect(w.has("b") || w.has("c")).toBe(false);
  });
});
