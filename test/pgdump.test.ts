// A real PostgreSQL dumped with `cairn snapshot --from-command -- pg_dump` into the real Ceph RGW
// repository: restored with psql, identical per pg_dump; a second dump after changing 1 % of the
// rows uploads little; a pg_dump that fails commits nothing.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, tempDir, type Result } from "./helpers/cli.js";
import { shA } from "./helpers/async-cli.js";
import { postgresAvailable, startPostgres } from "./helpers/postgres.js";
import { newBucketUrl, s3Available, type TestBucket } from "./helpers/s3.js";

// Dumps change in small places: 64 KiB chunks find more of a few-MB dump unchanged than 1 MiB ones.
const SIZES = "--min 16K --avg 64K --max 256K";

describe.skipIf(!postgresAvailable() || !s3Available())("pg_dump into RGW", () => {
  // Made in beforeAll: a skipped describe still runs its body, and would leave the directory behind.
  let dir = { path: "", cleanup: () => {} };
  let pg: { url: string; stop: () => void } | undefined;
  let server = "";
  let bucket: TestBucket | undefined;
  let env: Record<string, string> = {};

  /** A bash script (pipefail on) in the test directory, without blocking the test runner's event loop. */
  const run = (script: string): Promise<Result> => shA(script, { cwd: dir.path, env });
  async function ok(script: string): Promise<string> {
    const r = await run(script);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    return r.stdout.toString();
  }
  const psql = (db: string, sql: string) => ok(`PGOPTIONS="-c client_min_messages=warning" psql -q -v ON_ERROR_STOP=1 ${server}/${db} -c "${sql}"`);
  const snapshots = async () => (await ok(`cairn ls --json ${bucket!.url}`)).trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));

  beforeAll(async () => {
    dir = tempDir("cairn-pgdump-");
    pg = await startPostgres();
    server = pg.url.replace(/\/postgres$/, "");
    bucket = await newBucketUrl({ tag: "pgdump" });
    env = { ...bucket.env, CAIRN_WRITERS: join(dir.path, "writers"), CAIRN_CACHE: join(dir.path, "cache"), CAIRN_WRITER_KEY: "", CAIRN_OWNER_KEY: "" };
    await psql("postgres", "create database shop");
    // Two tables, ~12 MB of dump: customers, and orders that point at them.
    await psql(
      "shop",
      "create table customers (id int primary key, name text not null, email text not null, city text, created date not null);" +
        "create table orders (id bigint primary key, customer int not null, placed timestamptz not null, total numeric(10,2) not null, note text);" +
        "insert into customers select i, 'customer ' || i, 'c' || i || '@example.org', (array['Oslo','Lyon','Porto','Graz','Turku'])[1 + i % 5], date '2020-01-01' + (i % 1500) from generate_series(1, 30000) i;" +
        "insert into orders select i, 1 + (i * 7919) % 30000, timestamptz '2024-01-01' + i * interval '37 seconds', ((i * 31) % 100000) / 100.0, md5(i::text) from generate_series(1, 150000) i;" +
        "alter table orders add foreign key (customer) references customers (id);",
    );
    await ok("cairn key new -o owner.key >/dev/null && cairn key writer -i owner.key -o writer.key >/dev/null");
    await ok(`cairn init ${bucket.url} --owner-key owner.key --writer-key writer.key 2>/dev/null`);
  }, 120_000);

  afterAll(async () => {
    pg?.stop();
    await bucket?.cleanup();
    dir.cleanup();
  });

  it("examples/pg-dump.sh backs up with --from-command pg_dump and restores with psql, identical per pg_dump", async () => {
    const out = await ok(`WORK=${dir.path} PG=${server} DB=shop REPO=${bucket!.url} bash ${ROOT}/examples/pg-dump.sh`);
    expect(out).toMatch(/^[0-9a-f]{64}\npg-dump: shop_restored is identical to shop \(per pg_dump\)/);
    const snaps = await snapshots();
    expect(snaps).toHaveLength(1);
    expect(snaps[0]).toMatchObject({ label: "shop.sql", tags: ["pg_dump"] });
    expect(snaps[0].size).toBeGreaterThan(8_000_000);
    // The fused restore gives the same bytes as the pipeline's.
    const piped = await ok(`cairn pull -i owner.key ${bucket!.url} latest | cairn seal -d -i owner.key | cairn chunk -d -i owner.key | cairn snapshot -x --stdout | sha256sum`);
    const fused = await ok(`cairn restore -i owner.key ${bucket!.url} latest shop.sql --stdout | sha256sum`);
    expect(fused).toBe(piped);
  });

  it("a second dump after changing 1 % of the rows uploads at most 3 % of the dump's bytes", async () => {
    // 1 % of all rows (customers + orders): a contiguous run of orders, each row growing, so that
    // PostgreSQL writes the new versions at the table's end. (An update that fits the pages' free
    // space scatters the new versions over every page, and then every chunk of the dump changes.)
    await psql("shop", "update orders set total = total + 1, note = note || ' (refunded ' || md5(id::text || 'r') || ')' where id between 90001 and 91800");
    const r = await run(`cairn backup -k writer.key ${SIZES} --json ${bucket!.url} --from-command --name shop.sql --tag pg_dump -- pg_dump --no-owner ${server}/shop`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const stats = JSON.parse(r.stdout.toString()).targets[0];
    const snaps = await snapshots();
    expect(snaps).toHaveLength(2);
    const dumpBytes = snaps[1].size;
    expect(stats.reusedObjects).toBeGreaterThan(stats.newObjects);
    expect(stats.bytesOut).toBeGreaterThan(0);
    expect(stats.bytesOut / dumpBytes).toBeLessThanOrEqual(0.03);
  });

  it("a pg_dump that fails, at once or half-way, commits nothing and exits with the command-failed code", async () => {
    const before = (await snapshots()).length;
    const halfway = `bash -o pipefail -c 'pg_dump ${server}/shop | head -c 2000000'`; // pg_dump dies of SIGPIPE after 2 MB
    const wrongDb = `pg_dump ${server}/no_such_db`;
    for (const cmd of [wrongDb, halfway]) {
      const piped = await run(`cairn snapshot --from-command --name shop.sql -- ${cmd} | cairn chunk -k writer.key ${SIZES} | cairn seal -k writer.key | cairn push ${bucket!.url}; echo "\${PIPESTATUS[*]}"`);
      expect(piped.stdout.toString().trim().split(" ").map(Number)).toEqual([20, 12, 12, 12]);
      expect(piped.stderr).toMatch(/^cairn-snapshot: (pg_dump|bash) exited with status \d+; the snapshot is incomplete$/m);
      const fused = await run(`cairn backup -k writer.key ${SIZES} ${bucket!.url} --from-command --name shop.sql -- ${cmd}`);
      expect(fused.status).toBe(20);
      expect(fused.stdout.toString()).toBe("");
      expect(fused.stderr).toMatch(/^cairn-backup: (pg_dump|bash) exited with status \d+; the snapshot is incomplete$/m);
    }
    expect((await snapshots()).length).toBe(before);
  });
});
