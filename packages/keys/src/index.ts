// @cairn/keys: owner keys, writer keys and trusted writers. docs/keys.md.
export { readOwnerKey, parseOwnerKey, createOwnerKey, formatOwnerKey, type OwnerKey, type NewOwnerKey } from "./owner.js";
export { readWriterKey, parseWriterKey, createWriterKey, type WriterKey } from "./writer.js";
export { readTrustedWriters, pinWriter, trustFilePath, WRITERS_ENV } from "./trust.js";
export { idKeyFingerprint, keysetOf } from "./fingerprint.js";
export { publicKeyHex, publicKeyFromHex, signingKeyFromSeed } from "./signing.js";
export { obtainPassphrase, passphraseFromFile, readPassphraseFile, PASSPHRASE_ENV } from "./passphrase.js";
export { writeKeyFile, warnIfExposed } from "./keyfile.js";
export { ownerKeyFiles, writerKeyFile, OWNER_KEY_ENV, WRITER_KEY_ENV } from "./env.js";
export { formatRepoSecrets, parseRepoSecrets, openRepoSecrets, openRepoKeyFile, trustedIdKey, type RepoSecrets } from "./repo-secrets.js";
