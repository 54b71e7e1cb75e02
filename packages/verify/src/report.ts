// What verify found: problems (damage; each names one object and what it affects), notes
// (worth knowing, not damage) and counters. Rendered as a human summary or as JSON.

export type ProblemKind =
  | "snapshot" // a snapshot object that does not parse or hash to its name
  | "unsigned" // signed by no pinned writer (or not at all): reported, never trusted
  | "forged" // the signature does not verify
  | "future" // dated beyond the clock-skew bound
  | "keyset" // sealed for another repository
  | "index" // an index file that is damaged
  | "pack" // a pack that is missing, has the wrong size, a damaged trailer, or bytes that do not hash to its name
  | "object" // an object that is missing, fails to open, or does not match its id
  | "manifest" // a manifest that does not authenticate or does not belong to its snapshot
  | "refs" // clear references that disagree with the manifest
  | "restore"; // a restore test that failed

export interface AffectedFile {
  snapshot: string;
  path: string;
}

export interface Problem {
  kind: ProblemKind;
  /** The damaged object: "pack <id>", "data chunk <id>", "snapshot <id>", "index file <id>", … */
  object: string;
  message: string;
  /** Snapshots that need the object (ids). */
  snapshots: string[];
  /** With the owner key: the files whose content needs the object. */
  files: AffectedFile[];
}

export interface SnapshotStatus {
  id: string;
  time: string;
  host: string;
  label: string;
  writer: string;
  /** ok, damaged (needs a damaged or missing object), or untrusted (not counted as a backup). */
  status: "ok" | "damaged" | "untrusted";
}

export interface Stats {
  snapshots: number;
  trusted: number;
  indexFiles: number;
  packs: number;
  /** Bytes of all packs the index lists. */
  packBytes: number;
  objects: number;
  /** Packs whose trailers were checked (a ranged GET or a full read). */
  trailersChecked: number;
  /** Packs downloaded whole and hashed (--read-data). */
  packsRead: number;
  bytesRead: number;
  /** Objects decrypted and checked against their ids (-i with --read-data). */
  objectsOpened: number;
  manifestsChecked: number;
  filesRestored: number;
  seconds: number;
}

const FILES_PER_PROBLEM = 100;

export class Report {
  readonly problems = new Map<string, Problem>();
  readonly notes: string[] = [];
  readonly snapshots: SnapshotStatus[] = [];
  /** False when --max-duration stopped with its place unsaved (no cache, or one that cannot be written). */
  resumable = true;
  /** False when --max-duration stopped the pack checks before the end (they resume next run). */
  complete = true;
  /** What part of the pack data was selected for reading, in words ("all packs", "group 1 of 7", …). */
  readData?: string;
  readonly stats: Stats = {
    snapshots: 0,
    trusted: 0,
    indexFiles: 0,
    packs: 0,
    packBytes: 0,
    objects: 0,
    trailersChecked: 0,
    packsRead: 0,
    bytesRead: 0,
    objectsOpened: 0,
    manifestsChecked: 0,
    filesRestored: 0,
    seconds: 0,
  };

  constructor(readonly target: string) {}

  /** Records a problem with an object; a second report about the same object adds its message. */
  problem(kind: ProblemKind, object: string, message: string): Problem {
    const known = this.problems.get(object);
    if (known) {
      if (!known.message.includes(message)) known.message += `; ${message}`;
      return known;
    }
    const p: Problem = { kind, object, message, snapshots: [], files: [] };
    this.problems.set(object, p);
    return p;
  }

  affects(p: Problem, snapshot: string): void {
    if (!p.snapshots.includes(snapshot)) p.snapshots.push(snapshot);
    const s = this.snapshots.find((x) => x.id === snapshot);
    if (s && s.status === "ok") s.status = "damaged";
  }

  affectsFile(p: Problem, snapshot: string, path: string): void {
    if (p.files.length < FILES_PER_PROBLEM && !p.files.some((f) => f.snapshot === snapshot && f.path === path)) p.files.push({ snapshot, path });
  }

  note(text: string): void {
    this.notes.push(text);
  }

  get ok(): boolean {
    return this.problems.size === 0;
  }

  toJSON(): Record<string, unknown> {
    return {
      target: this.target,
      ok: this.ok,
      complete: this.complete,
      resumable: this.resumable,
      ...(this.readData ? { readData: this.readData } : {}),
      problems: [...this.problems.values()],
      notes: this.notes,
      snapshots: this.snapshots,
      stats: this.stats,
    };
  }

  /** The human summary: what was checked, each problem with what it affects, the verdict. */
  format(): string {
    const s = this.stats;
    const lines: string[] = [];
    if (this.snapshots.length || s.packs) {
      lines.push(
        `${this.target}: ${s.snapshots} snapshots (${s.trusted} signed by pinned writers), ${s.indexFiles} index files, ${s.packs} packs (${mib(s.packBytes)}), ${s.objects} objects`,
      );
      lines.push(`checked ${s.trailersChecked} pack trailers${s.packsRead || this.readData ? `, read ${s.packsRead} packs (${mib(s.bytesRead)}${this.readData ? `, ${this.readData}` : ""})` : ""}${s.objectsOpened ? `, opened ${s.objectsOpened} objects` : ""}${s.manifestsChecked ? `, ${s.manifestsChecked} manifests` : ""}${s.filesRestored ? `, restored ${s.filesRestored} files to nowhere` : ""} in ${s.seconds.toFixed(1)} s`);
    } else {
      lines.push(`${this.target}`);
    }
    for (const n of this.notes) lines.push(`note: ${n}`);
    for (const p of this.problems.values()) {
      lines.push(`PROBLEM ${p.object}: ${p.message}`);
      if (p.snapshots.length) lines.push(`  affects snapshot${p.snapshots.length > 1 ? "s" : ""} ${p.snapshots.map((x) => x.slice(0, 12)).join(", ")}`);
      for (const f of p.files) lines.push(`  file ${f.path} (snapshot ${f.snapshot.slice(0, 12)})`);
      if (p.files.length === FILES_PER_PROBLEM) lines.push(`  … and possibly more files`);
    }
    if (!this.complete) {
      lines.push(`stopped by --max-duration before every pack was checked: ${this.resumable ? "the next run resumes where this one stopped" : "its place could not be saved in the local cache, so the next run starts over"}`);
    }
    lines.push(this.ok ? "no problems found" : `${this.problems.size} problem${this.problems.size > 1 ? "s" : ""} found`);
    return lines.join("\n") + "\n";
  }
}

function mib(n: number): string {
  return n >= 1024 * 1024 * 1024 ? `${(n / 1024 ** 3).toFixed(2)} GiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`;
}
