// Answers of OpenStack Swift 2.30's s3api that the test RGW cannot give, replayed by a local HTTP
// server exactly as Swift sent them (measured with its Debian packages). Swift knows no Object
// Lock subresources: GET /b/k?retention is a plain GET (200, the object's bytes) and
// PUT /b/k?retention is a plain PUT that stores the Retention XML as the object.
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CairnError } from "@cairn/errors";
import { openStorage } from "../src/index.js";

interface SwiftLike {
  url: string;
  objects: Map<string, Buffer>;
  requests: string[];
  close: () => Promise<void>;
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/** Object PUT and GET as Swift's s3api answers them, whatever the query string says. */
async function startSwiftLike(): Promise<SwiftLike> {
  const objects = new Map<string, Buffer>();
  const requests: string[] = [];
  const server: Server = createServer(async (req, res) => {
    const [path, query = ""] = (req.url ?? "/").split("?");
    requests.push(`${req.method} ${path}${query ? `?${query}` : ""}`);
    const bytes = await body(req);
    const stamp = { "last-modified": new Date().toUTCString(), "x-amz-request-id": "tx0", "x-trans-id": "tx0" };
    if (req.method === "PUT") {
      objects.set(path, bytes);
      const etag = `"${createHash("md5").update(bytes).digest("hex")}"`;
      res.writeHead(200, { "content-type": "text/html; charset=UTF-8", "content-length": 0, etag, ...stamp });
      return res.end();
    }
    const object = objects.get(path);
    if ((req.method === "GET" || req.method === "HEAD") && object) {
      const etag = `"${createHash("md5").update(object).digest("hex")}"`;
      res.writeHead(200, { "content-type": "binary/octet-stream", "content-length": object.length, etag, ...stamp });
      return res.end(req.method === "GET" ? object : undefined);
    }
    const notFound = "<?xml version='1.0' encoding='UTF-8'?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>";
    res.writeHead(404, { "content-type": "application/xml", "content-length": Buffer.byteLength(notFound), ...stamp });
    res.end(req.method === "HEAD" ? undefined : notFound);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    objects,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe("S3 storage on a server that ignores the Object Lock subresources (Swift's s3api)", () => {
  let swift: SwiftLike;
  beforeAll(async () => void (swift = await startSwiftLike()));
  afterAll(() => swift.close());

  const open = () =>
    openStorage("s3://swift-bucket/repo", {
      endpoint: swift.url,
      region: "us-east-1",
      credentials: { accessKeyId: "test:tester", secretAccessKey: "testing" },
      maxAttempts: 1,
    });
  const until = new Date(Math.ceil(Date.now() / 1000) * 1000 + 86_400_000);

  it("reports no retention when GET ?retention answers with the object itself", async () => {
    const s = await open();
    await s.put("packs/ab/one", Buffer.from("the pack's bytes"));
    expect(await s.retention!("packs/ab/one")).toBeUndefined();
  });

  it("refuses to set a retention there instead of overwriting the object with the Retention XML", async () => {
    const pack = Buffer.from("a pack that must survive");
    for (const asked of [false, true]) {
      const s = await open(); // a fresh store, then one that has asked for a retention already
      await s.put("packs/ab/two", pack);
      if (asked) await s.retention!("packs/ab/two");
      const e = await s.setRetention!("packs/ab/two", { mode: "COMPLIANCE", until }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(CairnError);
      expect((e as CairnError).kind).toBe("refused");
      expect((e as CairnError).message).toMatch(/does not implement Object Lock retention/);
      expect(Buffer.from(await s.get("packs/ab/two")).equals(pack)).toBe(true);
    }
    expect(swift.requests.filter((r) => r.startsWith("PUT ") && r.includes("retention"))).toEqual([]);
  });
});
