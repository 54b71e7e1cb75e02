// A real, throwaway PostgreSQL server for tests (scripts/pg/pg-start.sh), one per caller: on a
// port nobody listens on and in a fresh temporary folder, so two runs of the suite at once (or a
// run after one that died without stopping its server) never meet each other's server.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./cli.js";

export function postgresAvailable(): boolean {
  return existsSync("/usr/lib/postgresql") && readdirSync("/usr/lib/postgresql").some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`));
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts a server; returns its URL and a stop function. */
export async function startPostgres(): Promise<{ url: string; stop: () => void }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const env = { ...process.env, PGPORT: String(port), CAIRN_PG_DIR: mkdtempSync(join(tmpdir(), "cairn-pg-")) };
    try {
      const url = execFileSync(join(ROOT, "scripts/pg/pg-start.sh"), { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
      return { url, stop: () => execFileSync(join(ROOT, "scripts/pg/pg-stop.sh"), { env }) };
    } catch (err) {
      execFileSync(join(ROOT, "scripts/pg/pg-stop.sh"), { env });
      // Someone else took the port between our pick and the server's bind: pick again.
      if (attempt >= 3) throw err;
    }
  }
}
