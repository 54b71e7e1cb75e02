// A real, throwaway PostgreSQL server for tests (scripts/pg/pg-start.sh), one per caller.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./cli.js";

export function postgresAvailable(): boolean {
  return existsSync("/usr/lib/postgresql") && readdirSync("/usr/lib/postgresql").some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`));
}

/** Starts a server on the given port; returns its URL and a stop function. */
export function startPostgres(port: number): { url: string; stop: () => void } {
  const env = { ...process.env, PGPORT: String(port), CAIRN_PG_DIR: `/tmp/cairn-pg-${port}` };
  const url = execFileSync(join(ROOT, "scripts/pg/pg-start.sh"), { env, encoding: "utf8" }).trim();
  return { url, stop: () => execFileSync(join(ROOT, "scripts/pg/pg-stop.sh"), { env }) };
}
