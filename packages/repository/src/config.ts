// The repository's `config` object (docs/repository.md, "config"): written once, by init,
// with If-None-Match so two inits cannot both win; never rewritten.
import { randomBytes } from "node:crypto";
import { CairnError, wholeNumber } from "@cairn/errors";
import type { Storage } from "@cairn/storage";
import { isHexId } from "./ids.js";
import { CONFIG_KEY } from "./layout.js";

export const FORMAT_VERSION = 1;
export const DEFAULT_PACK_SIZE = 32 * 1024 * 1024;
/** The pack targets a config may hold, and so what init, push and backup take for --pack-size. */
export const MIN_PACK_SIZE = 1024;
export const MAX_PACK_SIZE = 1024 * 1024 * 1024;

/** A --pack-size value: a whole number of bytes within the range a config may hold. */
export function packSizeFlag(text: string | undefined): number | undefined {
  return wholeNumber(text, "--pack-size", MIN_PACK_SIZE, MAX_PACK_SIZE);
}

export interface RepoConfig {
  cairn: "repository";
  version: number;
  /** 32 random bytes, hex: names this repository (local caches are kept per id). */
  id: string;
  created: string;
  /** The key-set fingerprint every pushed stream's START.keyset must equal. */
  keyset: string;
  /** Target pack size in bytes. */
  packSize: number;
  /** The chunker parameters the writers use (informational for tools that show them). */
  chunker?: Record<string, unknown>;
  [more: string]: unknown;
}

export function newConfig(opts: { keyset: string; packSize?: number; chunker?: Record<string, unknown>; now?: Date }): RepoConfig {
  if (!/^[0-9a-f]+$/.test(opts.keyset)) throw new CairnError("key", `key-set fingerprint is not hex: ${opts.keyset.slice(0, 40)}`);
  return {
    cairn: "repository",
    version: FORMAT_VERSION,
    id: randomBytes(32).toString("hex"),
    created: (opts.now ?? new Date()).toISOString(),
    keyset: opts.keyset,
    packSize: opts.packSize ?? DEFAULT_PACK_SIZE,
    ...(opts.chunker ? { chunker: opts.chunker } : {}),
  };
}

export function encodeConfig(config: RepoConfig): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(config, null, 2)}\n`);
}

/** Parses and checks a config object's bytes. */
export function parseConfig(bytes: Uint8Array, where = "config"): RepoConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new CairnError("integrity", `${where} is not valid JSON: not a cairn repository, or damaged`);
  }
  const c = parsed as Record<string, unknown> | null;
  if (c === null || typeof c !== "object" || c.cairn !== "repository") throw new CairnError("integrity", `${where} does not describe a cairn repository`);
  if (c.version !== FORMAT_VERSION) throw new CairnError("version", `repository format version ${c.version} is not supported (this build reads version ${FORMAT_VERSION})`);
  if (typeof c.id !== "string" || !isHexId(c.id)) throw new CairnError("integrity", `${where} has no valid repository id`);
  if (typeof c.keyset !== "string" || c.keyset.length === 0) throw new CairnError("integrity", `${where} has no key-set fingerprint`);
  const packSize = c.packSize;
  if (typeof packSize !== "number" || !Number.isInteger(packSize) || packSize < MIN_PACK_SIZE || packSize > MAX_PACK_SIZE) throw new CairnError("integrity", `${where} has an invalid pack size: ${packSize}`);
  return c as unknown as RepoConfig;
}

/** Writes config only if the repository has none yet. */
export async function createConfig(storage: Storage, config: RepoConfig): Promise<void> {
  await storage.create?.(); // the repository is born here: the one write that may make a folder's root
  const { created } = await storage.put(CONFIG_KEY, encodeConfig(config), { ifNoneMatch: true });
  if (!created) throw new CairnError("refused", `${storage.url} already holds a repository (its config exists); not overwriting it`);
}

export async function readConfig(storage: Storage): Promise<RepoConfig> {
  let bytes: Uint8Array;
  try {
    bytes = await storage.get(CONFIG_KEY);
  } catch (err) {
    // (A missing bucket keeps its own message: cairn init cannot help there.)
    if (err instanceof CairnError && err.kind === "notFound" && !/^bucket \S+ not found/.test(err.message)) {
      throw new CairnError("notFound", `no cairn repository at ${storage.url} (no config object; create one with cairn init)`);
    }
    throw err;
  }
  return parseConfig(bytes, `${storage.url} config`);
}
