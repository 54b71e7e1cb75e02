// The checks that need the owner key (docs/verify.md, "With the owner key"): every object read
// is decrypted, decompressed and checked against its keyed id; every manifest authenticates,
// belongs to its snapshot (header = signed COMMIT) and implies exactly the snapshot's clear
// reference set; a restore test runs pull → seal -d → chunk -d (the same library stages as
// `cairn restore`) and checks every file's digest.
// Loaded only when -i is given: a transport host never loads key or encryption code through it.
import { CairnError } from "@cairn/errors";
import type { Storage } from "@cairn/storage";
import { ID_SIZE, ObjectKind, compareIds, kindName, readClearObject, fromHexId, toHex, type IndexTable, type Snapshot } from "@cairn/repository";
import { IdList, RecordTag, checkHeader, readOwnerSecrets, refsBlocks, sha256, unseal } from "@cairn/seal";
import { readManifest } from "@cairn/pull/manifest";
import { openSnapshot } from "@cairn/pull";
import { pullOrdered } from "@cairn/pull/ordered";
import { dechunkStream } from "@cairn/chunk";
import type { Damage } from "./damage.js";
import type { ObjectOpener } from "./packs.js";
import { objectOpenerHere } from "./open-object.js";
import { OpenPool } from "./open-pool.js";
import type { RefsSummary } from "./references.js";
import { checkFileDigests } from "./file-digests.js";
import type { Report } from "./report.js";

export interface OwnerAccess {
  /** Owner key files (the first is what pull reads restore order with). */
  paths: string[];
  passphrase?: string;
  identities: string[];
  idKey: Uint8Array;
}

export async function ownerAccess(paths: string[], passphrase?: string): Promise<OwnerAccess> {
  const { identities, idKey } = await readOwnerSecrets(paths, { passphrase });
  return { paths, passphrase, identities, idKey };
}

/** Opens any stored object as seal -d would and checks it against its id: on worker threads when it can. */
export function objectOpener(owner: OwnerAccess): ObjectOpener {
  const pool = OpenPool.create({ identities: owner.identities, idKey: owner.idKey });
  const here = objectOpenerHere(owner.identities, owner.idKey);
  const open: ObjectOpener = pool ? (kind, id, bytes) => pool.open(kind, id, bytes) : here;
  open.close = async () => pool?.close();
  return open;
}

/**
 * Reads a snapshot's manifest with the owner key: authenticates the root and every manifest
 * chunk, binds the header to the signed COMMIT, names the files that need a damaged object, and
 * compares the set of ids the manifest implies with the clear reference set.
 * Returns false when the owner key opened nothing (a key problem, not damage).
 */
export async function checkManifest(storage: Storage, table: IndexTable, snap: Snapshot, refs: RefsSummary, damage: Damage, report: Report, owner: OwnerAccess): Promise<boolean> {
  const ids = new IdList();
  let path = "";
  let opened = false;
  const where = `manifest of snapshot ${snap.id}`;
  try {
    for await (const piece of readManifest(storage, table, snap.manifest, { identities: owner.identities, idKey: owner.idKey })) {
      opened = true;
      ids.add(table.idAt(piece.pos));
      for (const r of piece.records) {
        switch (r.tag) {
          case RecordTag.HEADER: {
            const h = checkHeader(r.meta, where);
            for (const f of ["time", "host", "label", "writer", "keyset"] as const) {
              if (h[f] !== snap.commit[f]) throw new CairnError("integrity", `its header's ${f} (${JSON.stringify(h[f])}) is not the signed COMMIT's (${JSON.stringify(snap.commit[f])}): a manifest from another snapshot`);
            }
            if (JSON.stringify(h.tags) !== JSON.stringify(snap.commit.tags)) throw new CairnError("integrity", "its header's tags are not the signed COMMIT's: a manifest from another snapshot");
            break;
          }
          case RecordTag.ENTRY:
            path = typeof r.meta.path === "string" ? r.meta.path : "";
            break;
          case RecordTag.CHUNK: {
            ids.add(r.id);
            if (report.problems.size > 0) {
              const pos = table.find(r.id);
              const bad = pos >= 0 ? damage.at(table, pos) : report.problems.get(`object ${toHex(r.id)}`);
              if (bad) report.affectsFile(bad, snap.id, path);
            }
            break;
          }
        }
      }
    }
  } catch (err) {
    if (!(err instanceof CairnError)) throw err;
    if (err.kind === "key" && !opened) return false;
    if (!["integrity", "notFound", "key", "version"].includes(err.kind)) throw err;
    report.affects(report.problem("manifest", where, err.message), snap.id);
    return true;
  }
  report.stats.manifestsChecked++;
  if (!refs.complete) return true;
  // Refs blocks are cut from the sorted set by a fixed rule (docs/sealing.md, "Refs"), so the set
  // the manifest implies equals the clear one exactly when it gives the same refs root id.
  const implied = ids.sortedUnique();
  const blockIds = refsBlocks(implied).map((b) => sha256(b));
  if (toHex(sha256(Buffer.concat(blockIds))) === snap.refs) return true;
  const { missing, extra } = await diffRefs(storage, table, snap, implied);
  report.affects(
    report.problem("refs", `refs root ${snap.refs}`, `the clear reference set disagrees with the manifest: ${missing} objects the manifest uses are not in it, ${extra} in it are not used (a writer signed an inconsistent snapshot, or its manifest was swapped)`),
    snap.id,
  );
  return true;
}

/** Counts ids in the manifest's set but not the clear refs (missing) and the reverse (extra). */
async function diffRefs(storage: Storage, table: IndexTable, snap: Snapshot, implied: Uint8Array): Promise<{ missing: number; extra: number }> {
  const root = await readClearObject(storage, table, fromHexId(snap.refs), ObjectKind.refsRoot);
  let i = 0;
  const n = implied.length / ID_SIZE;
  let missing = 0;
  let extra = 0;
  for (let b = 0; b < root.length; b += ID_SIZE) {
    const block = await readClearObject(storage, table, root.subarray(b, b + ID_SIZE), ObjectKind.refsBlock);
    for (let j = 0; j < block.length / ID_SIZE; j++) {
      while (i < n && compareIds(implied, i, block, j) < 0) {
        missing++;
        i++;
      }
      if (i < n && compareIds(implied, i, block, j) === 0) i++;
      else extra++;
    }
  }
  return { missing: missing + (n - i), extra };
}

/** Restores a snapshot to nowhere: the real restore stages, every file's size and SHA-256 checked. */
export async function restoreTest(storage: Storage, snapshot: string, trusted: Set<string>, owner: OwnerAccess, report: Report, opts: { jobs: number; cache?: string | false }): Promise<void> {
  const snapshotName = `snapshot ${snapshot}`;
  const at = { path: "" };
  try {
    const opened = await openSnapshot(storage, snapshot, { cache: opts.cache });
    const sealed = pullOrdered(storage, opened, { jobs: opts.jobs, identity: owner.paths[0], paths: [], passphrase: owner.passphrase });
    const frames = dechunkStream(unseal(sealed, { identities: owner.identities, idKey: owner.idKey, trusted }), { idKey: owner.idKey });
    await checkFileDigests(
      frames,
      (m) => {
        if (m) {
          const p = report.problem("restore", `file ${m.path} of ${snapshotName}`, `restores to ${m.size} bytes with SHA-256 ${m.sha256.slice(0, 16)}…, but was recorded as ${m.recordedSize} bytes with ${String(m.recordedSha256).slice(0, 16)}…`);
          report.affects(p, snapshot);
        }
        report.stats.filesRestored++;
      },
      at,
    );
  } catch (err) {
    if (!(err instanceof CairnError) || ["usage", "io", "storage", "failed"].includes(err.kind) || (err.kind === "notFound" && /^no snapshot/.test(err.message))) throw err;
    report.affects(report.problem("restore", snapshotName, `the restore test failed${at.path ? ` at ${at.path}` : ""}: ${err.message}`), snapshot);
  }
}

