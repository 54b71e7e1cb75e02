// Which entries a filtered sealed stream carries (docs/sealing.md, "Restoring some paths"): an
// entry is selected when its path is one of the selected paths or lies under one. Paths compare
// as raw bytes, so names that are not valid UTF-8 (pathB64) select correctly too.
import { decodeName, storedPath } from "@cairn/protocol";

export class Selection {
  private readonly paths: Buffer[];

  constructor(paths: string[]) {
    this.paths = paths.map((p) => Buffer.from(storedPath(p), "utf8"));
  }

  has(entry: Record<string, any>): boolean {
    if (typeof entry.path !== "string") return false;
    const path = decodeName(entry.path, typeof entry.pathB64 === "string" ? entry.pathB64 : undefined);
    return this.paths.some((p) => p.length === 0 || path.equals(p) || (path.length > p.length && path[p.length] === 0x2f && path.subarray(0, p.length).equals(p)));
  }
}
