import { readFileSync } from "node:fs";

// User and group names, read once from /etc/passwd and /etc/group (no NSS lookups: nothing in
// Node's standard library does them, and a backup must not hang on a directory service).

interface Table {
  byId: Map<number, string>;
  byName: Map<string, number>;
}

function readTable(file: string): Table {
  const byId = new Map<number, string>();
  const byName = new Map<string, number>();
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return { byId, byName };
  }
  for (const line of text.split("\n")) {
    const [name, , id] = line.split(":");
    const n = Number(id);
    if (!name || id === undefined || id === "" || !Number.isInteger(n)) continue;
    if (!byId.has(n)) byId.set(n, name);
    if (!byName.has(name)) byName.set(name, n);
  }
  return { byId, byName };
}

let users: Table | undefined;
let groups: Table | undefined;

export function userName(uid: number): string | undefined {
  users ??= readTable("/etc/passwd");
  return users.byId.get(uid);
}

export function groupName(gid: number): string | undefined {
  groups ??= readTable("/etc/group");
  return groups.byId.get(gid);
}

/** The local uid for an entry: by name when this system knows the name (as tar does), else the number. */
export function localUid(uname: string | undefined, uid: number | undefined): number | undefined {
  users ??= readTable("/etc/passwd");
  return (uname !== undefined ? users.byName.get(uname) : undefined) ?? uid;
}

export function localGid(gname: string | undefined, gid: number | undefined): number | undefined {
  groups ??= readTable("/etc/group");
  return (gname !== undefined ? groups.byName.get(gname) : undefined) ?? gid;
}
