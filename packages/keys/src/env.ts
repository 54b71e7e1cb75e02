// The key files a tool reads when its key flag is not given (docs/keys.md, "Environment"): the
// writer key for the tools that seal, the owner key for the ones that need it to read at all.
// verify and repair take the owner key only from -i, since with it they do more than without.

export const WRITER_KEY_ENV = "CAIRN_WRITER_KEY";
export const OWNER_KEY_ENV = "CAIRN_OWNER_KEY";

/** The owner key files given with -i, else $CAIRN_OWNER_KEY (an empty value counts as unset). */
export function ownerKeyFiles(given: readonly string[]): string[] {
  if (given.length > 0) return [...given];
  const fromEnv = process.env[OWNER_KEY_ENV];
  return fromEnv ? [fromEnv] : [];
}

/** The writer key file given with -k, else $CAIRN_WRITER_KEY. */
export function writerKeyFile(given: string | undefined): string | undefined {
  return given || process.env[WRITER_KEY_ENV] || undefined;
}
