import { CairnError } from "@cairn/errors";
import { storedPath, type Frame } from "@cairn/protocol";
import { EntryReader } from "./read-entries.js";

/**
 * Plain stream → the bytes of one file entry (`snapshot -x --stdout [PATH]`, for `… | psql`).
 * Without a path the stream must hold exactly one entry, a file. The bytes go out as they
 * arrive; if the digest then fails to check, this throws an "integrity" error, so a pipeline
 * run with `set -o pipefail` fails.
 */
export async function* extractToStdout(frames: AsyncIterable<Frame>, given?: string, warn: (m: string) => void = (m) => process.stderr.write(`cairn-snapshot: ${m}\n`)): AsyncGenerator<Uint8Array> {
  // As stored (snapshot /srv/x writes srv/x) and as pull's selection and -x DIR's PATHs read it.
  const path = given === undefined ? undefined : storedPath(given);
  const reader = new EntryReader(frames);
  let found = false;
  for (let entry = await reader.next(); entry; entry = await reader.next()) {
    if (path === undefined) {
      if (found) throw new CairnError("usage", "the stream holds several entries: name the one to write (snapshot -x --stdout PATH)");
      if (entry.meta.kind !== "file") throw new CairnError("usage", `the stream's first entry ${entry.meta.path} is a ${entry.meta.kind}, not a file: name the file to write (snapshot -x --stdout PATH)`);
    } else if (entry.meta.path !== path || found) {
      continue;
    } else if (entry.meta.kind !== "file") {
      throw new CairnError("usage", `${path} is a ${entry.meta.kind}, not a file`);
    }
    found = true;
    yield* reader.content();
    await reader.finish();
  }
  for (const w of reader.endWarnings()) warn(w);
  if (!found) throw new CairnError("notFound", given === undefined ? "the stream holds no entries" : `${given}: no such entry in the stream`);
}
