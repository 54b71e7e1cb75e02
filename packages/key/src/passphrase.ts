import { readFileSync } from "node:fs";
import { CairnError, toCairnError } from "@cairn/errors";
import { passphraseFromFile } from "@cairn/keys";

/** The passphrase named by --passphrase-file, if given (else readOwnerKey asks env, then terminal). */
export function passphraseOption(file: string | undefined): string | undefined {
  if (!file) return undefined;
  try {
    return passphraseFromFile(readFileSync(file, "utf8"));
  } catch (err) {
    if (err instanceof CairnError) throw err;
    const e = toCairnError(err);
    throw new CairnError(e.kind === "notFound" ? "notFound" : e.kind, `cannot read the passphrase file ${file}: ${e.message}`);
  }
}
