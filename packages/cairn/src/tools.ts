// Every tool: the package whose "./cli" export is its citty command, and a one-line summary.
// `cairn NAME` and `cairn-NAME` both run it.
export const tools: Record<string, { pkg: string; summary: string }> = {
  snapshot: { pkg: "@cairn/snapshot", summary: "files, tar, stdin or a command's output → plaintext stream; -x restores one" },
  inspect: { pkg: "@cairn/inspect", summary: "any cairn stream → one JSON line per frame, for debugging a pipeline" },
  key: { pkg: "@cairn/key", summary: "make owner identities and derive writer keys" },
  chunk: { pkg: "@cairn/chunk", summary: "plaintext stream → content-defined chunks with keyed ids; -d reassembles" },
  seal: { pkg: "@cairn/seal", summary: "chunked stream → compressed, encrypted, signed stream; -d opens one" },
  init: { pkg: "@cairn/init", summary: "create a repository and its keys" },
  push: { pkg: "@cairn/push", summary: "sealed stream → a committed snapshot in one or more repositories" },
  pull: { pkg: "@cairn/pull", summary: "a snapshot in a repository → sealed stream" },
  ls: { pkg: "@cairn/ls", summary: "list snapshots, or the files in one" },
  backup: { pkg: "@cairn/backup", summary: "snapshot | chunk | seal | push in one process" },
  restore: { pkg: "@cairn/restore", summary: "pull | seal -d | chunk -d | snapshot -x in one process" },
  verify: { pkg: "@cairn/verify", summary: "prove that a repository's snapshots are whole and restorable" },
  prune: { pkg: "@cairn/prune", summary: "apply a retention policy and collect garbage" },
  forget: { pkg: "@cairn/forget", summary: "remove named snapshots" },
  repair: { pkg: "@cairn/repair", summary: "rebuild the index from packs, drop damaged chunks" },
};
