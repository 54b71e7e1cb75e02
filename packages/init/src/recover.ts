// Disaster recovery (docs/keys.md, "Recovering an owner key"): an owner who kept only the age
// identity gets the repository secrets back from the key object init stored (`keys/<id>`) and
// a whole owner key file again. The id key is taken only as trustedIdKey allows: it matches a
// fingerprint the owner kept (pinned in the identity file, or given), or the user accepts it
// unpinned. A key object is sealed to the public recipients, so anyone who can write to the
// bucket can plant one: if several open with different id keys, an unpinned recovery refuses.
import { encryptWithPassphrase, DEFAULT_WORK_FACTOR } from "@cairn/age";
import { CairnError } from "@cairn/errors";
import { formatOwnerKey, idKeyFingerprint, keysetOf, openRepoSecrets, readOwnerKey, trustedIdKey, type RepoSecrets } from "@cairn/keys";
import type { Storage } from "@cairn/storage";
import { KEYS_PREFIX, LocalCache, listSnapshots, readConfig } from "@cairn/repository";
import { verifyCommit } from "@cairn/trust";

export interface RecoverOptions {
  /** The identity file: a plain age identity, or an owner key (possibly passphrase-protected). */
  identity: string;
  /** The identity file's passphrase, if it has one (else CAIRN_PASSPHRASE or the terminal). */
  identityPassphrase?: string;
  /** The id-key fingerprint the owner kept elsewhere (`cairn key show` printed it). */
  fingerprint?: string;
  /** Accept the id key with no fingerprint to check it against (it must still agree with the key sets below). */
  trustRepoKey?: boolean;
  /** Pinned writers: the key set their signed snapshots name must be the recovered one's (unpinned). */
  trusted?: ReadonlySet<string>;
  /** Protect the new owner key file with this passphrase. */
  passphrase?: string;
  now?: Date;
}

export interface RecoverResult {
  /** The new owner key file's content. */
  text: string;
  keyObject: string;
  idKeyFingerprint: string;
  /** True when writer keys made from this owner key can push to the repository (same key set). */
  keysetMatches: boolean;
}

export async function recoverOwnerKey(storage: Storage, opts: RecoverOptions): Promise<RecoverResult> {
  const owner = await readOwnerKey(opts.identity, { passphrase: opts.identityPassphrase });
  let pin = opts.fingerprint?.toLowerCase();
  if (pin !== undefined && !/^[0-9a-f]{64}$/.test(pin)) throw new CairnError("usage", "--fingerprint needs the 64 hex characters of an id-key fingerprint");
  if (pin && owner.idKeyFingerprint && pin !== owner.idKeyFingerprint) {
    throw new CairnError("key", `--fingerprint ${pin} is not the id-key fingerprint ${opts.identity} pins (${owner.idKeyFingerprint})`);
  }
  pin ??= owner.idKeyFingerprint;
  const config = await readConfig(storage);

  // Every key object that opens with the identity; the others are someone else's (or damaged).
  const opened: { key: string; secrets: RepoSecrets }[] = [];
  const failures: string[] = [];
  const newer: string[] = [];
  for await (const info of storage.list(KEYS_PREFIX)) {
    const what = `key object ${info.key} in ${storage.url}`;
    try {
      opened.push({ key: info.key, secrets: await openRepoSecrets(await storage.get(info.key), owner.identities, what) });
    } catch (err) {
      if (!(err instanceof CairnError) || (err.kind !== "key" && err.kind !== "integrity" && err.kind !== "version")) throw err;
      // A newer cairn's key object stops recovery only when nothing this build reads opens (a
      // planted one must not block it).
      (err.kind === "version" ? newer : failures).push(err.message);
    }
  }
  if (opened.length === 0 && newer.length > 0) throw new CairnError("version", newer[0]);
  if (opened.length === 0) {
    const why = failures.length ? `${failures.length} key object(s), none of them opens with ${opts.identity} (${failures[0]})` : "no key object (keys/)";
    throw new CairnError(failures.length ? "key" : "notFound", `${storage.url} holds ${why}: is this the repository's owner identity?`);
  }

  let chosen = opened;
  if (pin) chosen = opened.filter((o) => idKeyFingerprint(o.secrets.idKey) === pin);
  else if (new Set(opened.map((o) => idKeyFingerprint(o.secrets.idKey))).size > 1) {
    throw new CairnError("key", `${opened.length} key objects in ${storage.url} open with ${opts.identity} but hold different id keys (one may be planted): give the fingerprint you kept with --fingerprint`);
  }
  if (new Set(chosen.map((o) => (o.secrets.chunkerSecret ? Buffer.from(o.secrets.chunkerSecret).toString("hex") : ""))).size > 1) {
    throw new CairnError("key", `${chosen.length} key objects in ${storage.url} hold the same id key but different chunker secrets: refusing to choose`);
  }
  // With a pin that no object matches, trustedIdKey says so about the first one.
  const { key, secrets } = chosen[0] ?? opened[0];
  const idKey = trustedIdKey(secrets.idKey, `key object ${key}`, {
    pin, trust: opts.trustRepoKey, hint: "give the fingerprint you kept with --fingerprint HEX, or add --trust-repo-key to accept it",
  });
  if (!secrets.chunkerSecret) throw new CairnError("key", `key object ${key} holds no chunker secret: it cannot make a whole owner key`);

  const fingerprint = idKeyFingerprint(idKey);
  const keyset = keysetOf(owner.recipients, fingerprint);
  if (!pin) {
    // Taken on trust: the key set it makes with this identity's recipients must be the one the
    // repository records (config) and the one every snapshot a pinned writer signed names. A
    // key object planted in place of the real one fails here unless the planter also rewrote
    // config and no pinned writer's snapshot is left to contradict it. A repository with several
    // owners never matches: it needs --fingerprint.
    const signed = opts.trusted ? await signedKeysets(storage, opts.trusted) : new Set<string>();
    const against = [config.keyset, ...signed].find((k) => k !== keyset);
    if (against !== undefined) {
      throw new CairnError(
        "key",
        `the id key in key object ${key} does not make the repository's key set with ${opts.identity} (${against === config.keyset ? "config" : "a snapshot signed by a pinned writer"} says ${against.slice(0, 16)}…): possibly planted; give the fingerprint you kept with --fingerprint (also for a repository with several owners)`,
      );
    }
  }

  const created = opts.now ?? new Date();
  const plain = formatOwnerKey({
    identities: owner.identities, recipients: owner.recipients, idKey, chunkerSecret: secrets.chunkerSecret, created,
    note: `recovered from ${storage.url} (${key}); id-key fingerprint ${fingerprint}`,
  });
  const text = opts.passphrase === undefined ? plain : await encryptWithPassphrase(Buffer.from(plain), opts.passphrase, { workFactor: DEFAULT_WORK_FACTOR });
  return { text, keyObject: key, idKeyFingerprint: fingerprint, keysetMatches: keyset === config.keyset };
}

/** The key sets named by the snapshots whose COMMIT a pinned writer signed. */
async function signedKeysets(storage: Storage, trusted: ReadonlySet<string>): Promise<Set<string>> {
  const out = new Set<string>();
  for (const s of await listSnapshots(storage, new LocalCache(undefined))) {
    try {
      verifyCommit(s.commit as unknown as Record<string, unknown>, trusted);
      out.add(s.keyset);
    } catch {
      // not a pinned writer's: says nothing
    }
  }
  return out;
}
