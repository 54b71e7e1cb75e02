// Every tool: the package whose "./cli" export is its citty command, and a one-line summary.
// `cairn NAME` and `cairn-NAME` both run it.
// `storage`: the tool opens repositories (true), or its subcommand of that name does: it takes
// --endpoint and --path-style (storage-flags.ts).
// `variadic`: the tool takes any number of words (paths, repositories, ids) and checks them
// itself; any other tool refuses words beyond its positional arguments (exit 2).
export const tools: Record<string, { pkg: string; summary: string; storage?: true | string; variadic?: true }> = {
  snapshot: { pkg: "@cairn/snapshot", variadic: true, summary: "files, tar, stdin or a command's output → plaintext stream; -x restores one" },
  inspect: { pkg: "@cairn/inspect", summary: "any cairn stream → one JSON line per frame, for debugging a pipeline" },
  key: { pkg: "@cairn/key", storage: "recover", summary: "make owner identities, derive writer keys, recover an owner key" },
  chunk: { pkg: "@cairn/chunk", summary: "plaintext stream → content-defined chunks with keyed ids; -d reassembles" },
  seal: { pkg: "@cairn/seal", summary: "chunked stream → compressed, encrypted, signed stream; -d opens one" },
  init: { pkg: "@cairn/init", storage: true, summary: "create a repository and its keys" },
  push: { pkg: "@cairn/push", storage: true, variadic: true, summary: "sealed stream → a committed snapshot in one or more repositories" },
  pull: { pkg: "@cairn/pull", storage: true, variadic: true, summary: "a snapshot in a repository → sealed stream" },
  ls: { pkg: "@cairn/ls", storage: true, summary: "list snapshots, or the files in one" },
  backup: { pkg: "@cairn/backup", storage: true, variadic: true, summary: "snapshot | chunk | seal | push in one process" },
  restore: { pkg: "@cairn/restore", storage: true, variadic: true, summary: "pull | seal -d | chunk -d | snapshot -x in one process" },
  verify: { pkg: "@cairn/verify", storage: true, summary: "prove that a repository's snapshots are whole and restorable" },
  prune: { pkg: "@cairn/prune", storage: true, summary: "apply a retention policy and collect garbage" },
  forget: { pkg: "@cairn/forget", storage: true, variadic: true, summary: "remove named snapshots" },
  repair: { pkg: "@cairn/repair", storage: true, summary: "rebuild the index from packs, drop damaged chunks" },
};
