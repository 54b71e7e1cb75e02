// A fault-injecting HTTP proxy for S3 tests: listens on 127.0.0.1, forwards to a real server
// (RGW), and on a seeded pseudo-random fraction of requests answers 503 SlowDown, resets the
// connection while the request body is arriving, or lets the server do the work and then cuts
// the response mid-body (or before it). Faults are bounded per request (a retried request fails
// at most maxFaultsPerRequest times) so a client with enough retries must get everything through.
// The SigV4 signature covers the Host header, which is forwarded unchanged (path-style URLs).
//
// The proxy runs in the test's own process (startFaultProxy) or, for tests that run CLIs with
// spawnSync (which blocks this process's event loop), in a child process (spawnFaultProxy).
import { spawn } from "node:child_process";
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export interface FaultProxyOptions {
  /** The real server, e.g. process.env.CAIRN_S3_ENDPOINT. */
  target: string;
  /** Seeds the fault sequence (same seed, same decisions in request-arrival order). */
  seed?: number;
  /** Fraction of requests answered 503 SlowDown. */
  slowDown?: number;
  /** Fraction of requests whose connection is reset while the request body arrives (before the server sees it). */
  resetRequest?: number;
  /** Fraction of requests the server completes but whose response is cut mid-body (or before the headers if it has none). */
  resetResponse?: number;
  /** A request (same method, path and Range) is faulted at most this many times (default 2). */
  maxFaultsPerRequest?: number;
  /** Stop injecting after this many faults in all (default unlimited). */
  maxFaults?: number;
  /** Keep each request's method, url and headers in `requests`. */
  record?: boolean;
  /**
   * Answer every PUT with If-None-Match with 501 NotImplemented, as Swift 2.30's s3api does (it honours
   * If-None-Match on CompleteMultipartUpload, a POST, which passes through).
   */
  noConditionalWrites?: boolean;
  /** Let the server complete every request of this method whose path matches, and cut the connection before its answer. */
  loseAnswers?: { method: string; path: RegExp };
  /** Flip one byte in the middle of the bodies of the first `times` successful GETs whose path matches (damage on the way). */
  corruptGets?: { path: RegExp; times: number };
}

export interface FaultStats {
  requests: number;
  slowDowns: number;
  requestResets: number;
  responseResets: number;
  corruptedGets?: number;
}

export interface FaultProxy {
  /** http://127.0.0.1:PORT — use as the S3 endpoint. */
  url: string;
  stats: FaultStats;
  requests: { method: string; url: string; headers: IncomingMessage["headers"] }[];
  close(): Promise<void>;
}

/** mulberry32: a small seeded PRNG, good enough to pick faults reproducibly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STATS_PATH = "/__fault-proxy/stats";

const notImplementedBody =
  "<?xml version='1.0' encoding='UTF-8'?>\n<Error><Code>NotImplemented</Code><Message>Conditional object PUTs are not supported.</Message></Error>";

const slowDownBody =
  '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>';

export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(opts.target);
  const random = prng(opts.seed ?? 1);
  const maxPer = opts.maxFaultsPerRequest ?? 2;
  const maxFaults = opts.maxFaults ?? Infinity;
  const faultsPerRequest = new Map<string, number>();
  const stats: FaultStats = { requests: 0, slowDowns: 0, requestResets: 0, responseResets: 0 };
  const requests: FaultProxy["requests"] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const sockets = new Set<Socket>();

  type Fault = "slowDown" | "resetRequest" | "resetResponse" | undefined;
  function decide(req: IncomingMessage): Fault {
    const r = random();
    const id = `${req.method} ${req.url} ${req.headers.range ?? ""}`;
    const done = faultsPerRequest.get(id) ?? 0;
    const total = stats.slowDowns + stats.requestResets + stats.responseResets;
    if (done >= maxPer || total >= maxFaults) return undefined;
    let fault: Fault;
    const a = opts.slowDown ?? 0;
    const b = a + (opts.resetRequest ?? 0);
    const c = b + (opts.resetResponse ?? 0);
    if (r < a) fault = "slowDown";
    else if (r < b) fault = "resetRequest";
    else if (r < c) fault = "resetResponse";
    if (fault) faultsPerRequest.set(id, done + 1);
    return fault;
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.url === STATS_PATH) {
      // the control endpoint of a spawned proxy (no bucket name starts with "_")
      res.writeHead(200, { "content-type": "application/json" });
      return void res.end(JSON.stringify(stats));
    }
    stats.requests++;
    if (opts.record) requests.push({ method: req.method ?? "", url: req.url ?? "", headers: { ...req.headers } });
    if (opts.noConditionalWrites && req.headers["if-none-match"] !== undefined && req.method === "PUT") {
      req.resume();
      req.on("end", () => {
        res.writeHead(501, { "content-type": "application/xml", "content-length": Buffer.byteLength(notImplementedBody) });
        res.end(notImplementedBody);
      });
      return;
    }
    const lost = opts.loseAnswers && req.method === opts.loseAnswers.method && opts.loseAnswers.path.test(req.url ?? "");
    const fault = lost ? "resetResponse" : decide(req);
    if (fault === "slowDown") {
      stats.slowDowns++;
      req.resume();
      req.on("end", () => {
        res.writeHead(503, { "content-type": "application/xml", "content-length": Buffer.byteLength(slowDownBody) });
        res.end(slowDownBody);
      });
      return;
    }
    if (fault === "resetRequest") {
      stats.requestResets++;
      const length = Number(req.headers["content-length"] ?? 0);
      if (length < 2) return void req.socket.destroy();
      let seen = 0;
      req.on("data", (chunk: Buffer) => {
        seen += chunk.length;
        if (seen >= length / 2) req.socket.destroy();
      });
      return;
    }
    const headers = { ...req.headers };
    delete headers.expect; // we relay the body at once; the server's 100-continue is not needed
    const up = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent },
      (upRes) => {
        if (fault === "resetResponse") {
          stats.responseResets++;
          const length = req.method === "HEAD" ? 0 : Number(upRes.headers["content-length"] ?? 0);
          if (length < 2) {
            upRes.resume();
            upRes.on("end", () => req.socket.destroy());
            return;
          }
          // exactly the first half (rounded up) reaches the client, then the connection closes
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          const half = Math.ceil(length / 2);
          let sent = 0;
          upRes.on("data", (chunk: Buffer) => {
            if (sent >= half) return;
            const part = chunk.subarray(0, half - sent);
            sent += part.length;
            if (sent < half) res.write(part);
            else res.write(part, () => req.socket.destroy()); // once it is flushed to the kernel
          });
          upRes.on("end", () => {
            if (sent < half) req.socket.destroy(); // a body shorter than its content-length
          });
          return;
        }
        const corrupt = opts.corruptGets;
        const length = Number(upRes.headers["content-length"] ?? 0);
        if (corrupt && req.method === "GET" && (upRes.statusCode === 200 || upRes.statusCode === 206) && length > 0 && corrupt.path.test(req.url ?? "") && (stats.corruptedGets ?? 0) < corrupt.times) {
          stats.corruptedGets = (stats.corruptedGets ?? 0) + 1;
          res.writeHead(upRes.statusCode, upRes.headers);
          const middle = Math.floor(length / 2);
          let at = 0;
          upRes.on("data", (chunk: Buffer) => {
            if (middle >= at && middle < at + chunk.length) chunk[middle - at] ^= 0x40;
            at += chunk.length;
            res.write(chunk);
          });
          upRes.on("end", () => res.end());
          return;
        }
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on("error", () => req.socket.destroy());
    req.pipe(up);
  }

  const server = createServer(handle);
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    requests,
    close: async () => {
      for (const s of sockets) s.destroy();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A server that accepts connections and resets each one at once: an S3 endpoint that stays dead. */
export async function startDeadServer(): Promise<{ url: string; connections: () => number; close(): Promise<void> }> {
  let connections = 0;
  const server = createServer();
  server.on("connection", (s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A server that accepts connections and reads requests but never answers (a hung server). */
export async function startBlackHole(): Promise<{ url: string; connections: () => number; close(): Promise<void> }> {
  let connections = 0;
  const sockets = new Set<import("node:net").Socket>();
  const server = createServer();
  server.on("connection", (s) => {
    connections++;
    sockets.add(s);
    s.on("data", () => {}); // swallow the request
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => connections,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface SpawnedFaultProxy {
  url: string;
  /** The child's counts so far. */
  stats(): Promise<FaultStats>;
  close(): Promise<void>;
}

/** The same proxy in a child process, so it keeps serving while the test blocks in spawnSync. */
export async function spawnFaultProxy(opts: Omit<FaultProxyOptions, "record">): Promise<SpawnedFaultProxy> {
  const child = spawn(process.execPath, ["--experimental-strip-types", "--no-warnings", fileURLToPath(import.meta.url), JSON.stringify(opts)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once("line", (line) => resolve(line.trim()));
    child.once("exit", (code) => reject(new Error(`fault proxy exited with ${code} before listening`)));
  });
  return {
    url,
    stats: async () => (await (await fetch(`${url}${STATS_PATH}`)).json()) as FaultStats,
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

// `node --experimental-strip-types test/helpers/fault-proxy.ts '{"target":"http://127.0.0.1:7480","slowDown":0.1}'`
// prints the proxy's URL on stdout and serves until SIGTERM.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const proxy = await startFaultProxy(JSON.parse(process.argv[2] ?? "{}") as FaultProxyOptions);
  process.stdout.write(`${proxy.url}\n`);
  process.on("SIGTERM", () => void proxy.close().then(() => process.exit(0)));
}
