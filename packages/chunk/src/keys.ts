import { CairnError } from "@cairn/errors";
import { idKeyFingerprint, openRepoKeyFile, OWNER_KEY_ENV, readOwnerKey, readPassphraseFile, readWriterKey, trustedIdKey, WRITER_KEY_ENV, writerKeyFile } from "@cairn/keys";
import type { ChunkSecrets } from "./secrets.js";

/** `cairn chunk`: the id key and chunker secret of the writer key (-k, else CAIRN_WRITER_KEY). */
export async function writerSecrets(path: string | undefined): Promise<ChunkSecrets> {
  const file = writerKeyFile(path);
  if (!file) throw new CairnError("key", `no writer key: give -k WRITER_KEY or set ${WRITER_KEY_ENV}`);
  const key = await readWriterKey(file);
  return { idKey: key.idKey, chunkerSecret: key.chunkerSecret };
}

/**
 * `cairn chunk -d`: the id key every chunk is checked against. It comes from the owner key
 * (-i, else CAIRN_OWNER_KEY) or a writer key (-k, else CAIRN_WRITER_KEY), never from the stream.
 * Given both, the writer key's id key must match the fingerprint the owner key pins.
 */
export async function readerIdKey(opts: { identity?: string; key?: string; passphraseFile?: string; repoKey?: string; trustRepoKey?: boolean }): Promise<Uint8Array> {
  const ownerFile = opts.identity || (opts.key ? undefined : process.env[OWNER_KEY_ENV]);
  const owner = ownerFile ? await readOwnerKey(ownerFile, { passphrase: readPassphraseFile(opts.passphraseFile) }) : undefined;
  if (opts.repoKey && !owner) throw new CairnError("usage", "--repo-key opens with the owner's identity: give it with -i OWNER_KEY");
  if (opts.key) {
    const idKey = (await readWriterKey(opts.key)).idKey;
    if (owner?.idKeyFingerprint && owner.idKeyFingerprint !== idKeyFingerprint(idKey)) {
      throw new CairnError("key", `the id key of writer key ${opts.key} is not the one owner key ${ownerFile} pins`);
    }
    return idKey;
  }
  if (owner) {
    if (owner.idKey) return owner.idKey;
    if (!opts.repoKey) {
      throw new CairnError(
        "key",
        `owner key ${ownerFile} carries no id key (a plain age identity?): chunk -d needs it to check every chunk; give the repository's key file with --repo-key FILE${owner.idKeyFingerprint ? "" : " and --trust-repo-key"}, or use the owner key from cairn key new or cairn key recover`,
      );
    }
    const { idKey } = await openRepoKeyFile(opts.repoKey, owner.identities);
    return trustedIdKey(idKey, `repository key file ${opts.repoKey}`, { pin: owner.idKeyFingerprint, trust: opts.trustRepoKey });
  }
  const writer = process.env[WRITER_KEY_ENV];
  if (writer) return (await readWriterKey(writer)).idKey;
  throw new CairnError("key", `no key to check chunks with: give -i OWNER_KEY or -k WRITER_KEY (or set ${OWNER_KEY_ENV} / ${WRITER_KEY_ENV})`);
}
