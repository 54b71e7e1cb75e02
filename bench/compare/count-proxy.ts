// A counting HTTP proxy in front of an S3 endpoint, so that every client (restic, cairn) is counted
// the same way: requests by method, and request/response body bytes.
//   node bench/compare/count-proxy.ts UPSTREAM_URL PORT
// GET http://127.0.0.1:PORT/__counts prints the counts as JSON and resets them. The Host header is
// passed through unchanged, so SigV4 signatures made for the proxy's address stay valid.
// `maxInFlight` is the most requests the proxy had open at once. DELAY_MS=N holds each request N ms
// before forwarding it: the round trip of a store far away. RATE_MBPS=N sends each response at
// most N MB/s: what one connection to such a store carries.
import { createServer, request } from "node:http";

const upstream = new URL(process.argv[2] ?? "");
const port = Number(process.argv[3]);
const delay = Number(process.env.DELAY_MS ?? 0);
const rate = Number(process.env.RATE_MBPS ?? 0) * 1e6;
let counts = { requests: 0, byMethod: {} as Record<string, number>, bytesUp: 0, bytesDown: 0, maxInFlight: 0 };
let inFlight = 0;

const server = createServer((req, res) => {
  if (req.url === "/__counts") {
    res.end(JSON.stringify(counts));
    counts = { requests: 0, byMethod: {}, bytesUp: 0, bytesDown: 0, maxInFlight: 0 };
    return;
  }
  counts.requests++;
  counts.maxInFlight = Math.max(counts.maxInFlight, ++inFlight);
  res.on("close", () => inFlight--);
  counts.byMethod[req.method!] = (counts.byMethod[req.method!] ?? 0) + 1;
  const forward = () => {
    const up = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (ures) => {
      res.writeHead(ures.statusCode!, ures.rawHeaders);
      const start = Date.now();
      let sent = 0;
      ures.on("data", (b: Buffer) => {
        counts.bytesDown += b.length;
        res.write(b);
        if (!rate) return;
        sent += b.length;
        const wait = start + (sent / rate) * 1000 - Date.now();
        if (wait > 2) {
          ures.pause();
          setTimeout(() => ures.resume(), wait);
        }
      });
      ures.on("end", () => res.end());
      ures.on("error", () => res.destroy());
    });
    up.on("error", () => res.destroy());
    req.on("data", (b: Buffer) => (counts.bytesUp += b.length));
    req.pipe(up);
  };
  if (delay > 0) {
    req.pause();
    setTimeout(() => {
      req.resume();
      forward();
    }, delay);
  } else forward();
});
server.keepAliveTimeout = 60_000;
server.listen(port, "127.0.0.1", () => process.stderr.write(`count-proxy: 127.0.0.1:${port} → ${upstream.href}\n`));
