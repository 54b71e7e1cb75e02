import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { CairnError } from "@cairn/errors";
import {
  FileKeyCache, encodeHeader, generateIdentity, identityToRecipient, newSession, openFile, parseHeader, sealWithSession, type Session, type Stanza,
} from "../src/index.js";

const vchar = fc.stringMatching(/^[\x21-\x7e]{1,12}$/);
const stanza: fc.Arbitrary<Stanza> = fc.record({
  args: fc.array(vchar, { minLength: 1, maxLength: 4 }),
  body: fc.uint8Array({ maxLength: 200 }),
});

describe("header encoding", () => {
  it("parses back exactly what it encodes, for any stanzas", () => {
    fc.assert(fc.property(fc.array(stanza, { minLength: 1, maxLength: 5 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (stanzas, mac) => {
      const bytes = encodeHeader(stanzas, mac);
      const h = parseHeader(bytes);
      expect(h.bytes.length).toBe(bytes.length);
      expect(h.stanzas.map((s) => ({ args: s.args, body: Buffer.from(s.body) }))).toEqual(stanzas.map((s) => ({ args: s.args, body: Buffer.from(s.body) })));
      expect(Buffer.from(h.mac)).toEqual(Buffer.from(mac));
    }));
  });
});

describe("sealed files under damage", () => {
  let id: string;
  let session: Session;
  let file: Uint8Array;
  const plaintext = randomBytes(150_000);
  beforeAll(async () => {
    id = await generateIdentity();
    session = await newSession([await identityToRecipient(id)]);
    file = sealWithSession(session, plaintext);
  });

  async function failure(bytes: Uint8Array, cache?: FileKeyCache): Promise<CairnError | undefined> {
    try {
      await openFile(bytes, [id], cache);
      return undefined;
    } catch (err) {
      return err as CairnError;
    }
  }

  it("any flipped bit anywhere is refused, as a key or integrity error", async () => {
    const cache = new FileKeyCache();
    // Half the flips land in the header and nonce, half anywhere.
    const position = fc.oneof(fc.nat({ max: session.header.length + 15 }), fc.nat({ max: file.length - 1 }));
    await fc.assert(fc.asyncProperty(position, fc.integer({ min: 0, max: 7 }), async (pos, bit) => {
      const damaged = Uint8Array.from(file);
      damaged[pos] ^= 1 << bit;
      const e = await failure(damaged, cache);
      expect(e).toBeInstanceOf(CairnError);
      expect(["key", "integrity"]).toContain(e!.kind);
    }), { numRuns: 300 });
  });

  it("any truncation or extension is refused as an integrity error", async () => {
    const cache = new FileKeyCache();
    await fc.assert(fc.asyncProperty(fc.nat({ max: file.length - 1 }), async (len) => {
      const e = await failure(file.subarray(0, len), cache);
      expect(e?.kind).toBe("integrity");
    }), { numRuns: 200 });
    const longer = new Uint8Array(file.length + 1);
    longer.set(file);
    expect((await failure(longer, cache))?.kind).toBe("integrity");
  });
});
