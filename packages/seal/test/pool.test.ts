import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { newSession } from "@cairn/age";
import { SEAL_WORKER, WorkerPool } from "../src/pool.js";
import { ObjectKind } from "../src/objects.js";
import { makeKeys } from "./fixtures.js";

const keys = await makeKeys();

describe("WorkerPool.close", () => {
  it("lets each worker finish the jobs it was sent, then the threads end", async () => {
    const session = await newSession(keys.writer.recipients);
    const pool = new WorkerPool(SEAL_WORKER, { session, idKey: keys.writer.idKey, level: 3 }, 2);
    const jobs = Array.from({ length: 8 }, () => {
      const data = randomBytes(1 << 20);
      const id = createHmac("sha256", keys.writer.idKey).update(data).digest();
      return pool.run(ObjectKind.DATA, id, data);
    });
    const results = Promise.allSettled(jobs);
    await pool.close(); // at once, with all 8 in flight
    const settled = await results;
    expect(settled.map((s) => s.status)).toEqual(Array(8).fill("fulfilled"));
    for (const s of settled) expect((s as PromiseFulfilledResult<Uint8Array>).value.length).toBeGreaterThan(1 << 20);
  });
});
