// `cairn verify REPO`: the whole check, in the order that lets each step name what damage
// affects (docs/verify.md): snapshots and signatures, the index, the packs (trailers, and data
// with --read-data), then each trusted snapshot's references, and with the owner key its
// manifest and an optional restore test.
import { CairnError } from "@cairn/errors";
import type { Storage } from "@cairn/storage";
import { LocalCache, readConfig, selectSnapshot } from "@cairn/repository";
import { Damage } from "./damage.js";
import { loadVerifyIndex } from "./index-files.js";
import { checkPacks, listPacks, type ObjectOpener } from "./packs.js";
import { BlockCache, checkReferences } from "./references.js";
import { Report } from "./report.js";
import { checkSnapshots } from "./snapshots.js";
import { readState, writeState } from "./state.js";
import { describeSubset, subsetName, type Subset } from "./subset.js";

/** Snapshots dated more than this after the local clock are flagged (--clock-skew). */
export const DEFAULT_CLOCK_SKEW_MS = 15 * 60 * 1000;

export interface VerifyOptions {
  /** Pinned writers (hex Ed25519 public keys). */
  trusted: Set<string>;
  /** --read-data: which packs to download and hash. */
  readData?: Subset;
  /** --max-duration: stop starting packs after this long; the next run resumes. */
  maxDurationMs?: number;
  clockSkewMs?: number;
  jobs?: number;
  /** Local cache base (verify's resume state lives there), or false for none. */
  cache?: string | false;
  /** Owner key files (-i): turns on the keyed checks. */
  identity?: string[];
  passphrase?: string;
  /** --restore-test: a snapshot selector to restore to nowhere (needs identity). */
  restoreTest?: string;
  /** Progress of the pack checks (the CLI shows it when stderr is a terminal). */
  progress?: (done: number, total: number) => void;
  /** The clock, for tests of future-dated snapshots. */
  now?: number;
}

export async function verifyRepository(storage: Storage, opts: VerifyOptions): Promise<Report> {
  const started = Date.now();
  const now = opts.now ?? started;
  const jobs = opts.jobs ?? 4;
  const report = new Report(storage.url);
  if (opts.restoreTest && !opts.identity?.length) throw new CairnError("usage", "--restore-test needs the owner key: -i OWNER_KEY");
  const config = await readConfig(storage);

  // The keyed part lives apart and is loaded only with -i.
  const keyed = opts.identity?.length ? await import("./keyed.js") : undefined;
  const owner = keyed ? await keyed.ownerAccess(opts.identity!, opts.passphrase) : undefined;
  // Objects are opened only where --read-data reads them.
  const open: ObjectOpener | undefined = keyed && owner && opts.readData ? keyed.objectOpener(owner) : undefined;

  const snaps = await checkSnapshots(storage, config, report, { trusted: opts.trusted, skewMs: opts.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS, now });
  const index = await loadVerifyIndex(storage, report, 8);
  const { table } = index;
  report.stats.indexFiles = index.files.length;
  report.stats.packs = table.packCount;
  for (let p = 0; p < table.packCount; p++) report.stats.packBytes += table.packSizes[p];
  report.stats.objects = table.size;

  // Packs, resumable: the state remembers a run that --max-duration stopped, per subset.
  const cache = LocalCache.forRepository(config.id, opts.cache);
  const state = await readState(cache);
  const name = opts.readData ? subsetName(opts.readData) : "trailers";
  const resume = state.resume && state.resume.subset === name ? state.resume : undefined;
  const counter = resume ? resume.counter : state.counter;
  if (opts.readData) report.readData = describeSubset(opts.readData, counter);
  if (resume) report.note(`resuming after pack ${resume.after.slice(0, 12)}, where a run stopped by --max-duration got to`);
  const damage = new Damage();
  const stored = await listPacks(storage);
  let result;
  try {
    result = await checkPacks(storage, index, stored, damage, report, {
      jobs,
      subset: opts.readData,
      counter,
      after: resume?.after,
      deadline: opts.maxDurationMs !== undefined ? started + opts.maxDurationMs : undefined,
      open,
      progress: opts.progress,
    });
  } finally {
    await open?.close?.();
  }
  // A state that cannot be saved would make every --read-data p% run check the same window,
  // and every --max-duration run start over: said in the report, never silently.
  if (result.stopped && result.stoppedAfter) {
    report.complete = false;
    report.resumable = await writeState(cache, { counter: state.counter, resume: { subset: name, counter, after: result.stoppedAfter } });
  } else if (result.stopped) {
    report.complete = false;
  } else if (resume || opts.readData?.kind === "percent") {
    if (!(await writeState(cache, { counter: opts.readData?.kind === "percent" ? counter + 1 : state.counter })) && opts.readData?.kind === "percent") {
      report.note(`verify could not save its state in the local cache (none given, or it cannot be written): the next --read-data ${opts.readData.p}% run checks this same window again`);
    }
  }

  let opened = 0;
  const blocks = new BlockCache(snaps);
  for (const snap of snaps) {
    const refs = await checkReferences(storage, table, snap, damage, report, index.marks, blocks);
    if (keyed && owner && (await keyed.checkManifest(storage, table, snap, refs, damage, report, owner))) opened++;
  }
  if (keyed && snaps.length > 0 && opened === 0) {
    throw new CairnError("key", "the owner key opens no manifest of this repository (is it this repository's owner key?)");
  }
  if (keyed && owner && opts.restoreTest) {
    const snap = selectSnapshot(snaps, opts.restoreTest);
    await keyed.restoreTest(storage, snap.id, opts.trusted, owner, report, { jobs, cache: opts.cache });
  }
  report.stats.seconds = (Date.now() - started) / 1000;
  return report;
}
