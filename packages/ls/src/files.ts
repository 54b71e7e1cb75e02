// Listing the files in a snapshot needs the owner key and @cairn/seal's manifest reader.
import { CairnError } from "@cairn/errors";
import type { Storage } from "@cairn/storage";

export async function listFiles(_storage: Storage, _selector: string, _opts: { identity: string; path?: string; json: boolean }): Promise<void> {
  throw new CairnError("usage", "listing files needs the manifest reader of @cairn/seal, which this build does not have yet");
}
