import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { CairnError } from "@cairn/errors";

export type StorageLocation =
  | { kind: "folder"; path: string; url: string }
  | { kind: "s3"; bucket: string; prefix: string; url: string };

/**
 * Reads a repository URL: `file:///abs/path`, `s3://bucket/prefix` (prefix optional), or a plain
 * filesystem path (taken as a folder). The returned url is the normalized form.
 */
export function parseStorageUrl(url: string): StorageLocation {
  if (url.startsWith("s3://")) {
    const rest = url.slice("s3://".length);
    const slash = rest.indexOf("/");
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    const prefix = slash === -1 ? "" : rest.slice(slash + 1).replace(/^\/+|\/+$/g, "");
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      throw new CairnError("usage", `invalid S3 bucket name in ${url} (3–63 characters: a-z, 0-9, '.', '-')`);
    }
    if (prefix.split("/").some((s) => s === "." || s === ".." || (prefix !== "" && s === ""))) {
      throw new CairnError("usage", `invalid prefix in ${url}`);
    }
    return { kind: "s3", bucket, prefix, url: prefix ? `s3://${bucket}/${prefix}` : `s3://${bucket}` };
  }
  if (url.startsWith("file:")) {
    let path: string;
    try {
      path = fileURLToPath(url);
    } catch (err) {
      throw new CairnError("usage", `invalid file URL ${url}: ${(err as Error).message} (use file:///absolute/path)`);
    }
    return folder(path);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new CairnError("usage", `unsupported repository URL ${url} (use file:///path or s3://bucket/prefix)`);
  }
  if (url === "") throw new CairnError("usage", "empty repository URL");
  return folder(resolve(url));
}

function folder(path: string): StorageLocation {
  const clean = path.length > 1 ? path.replace(/\/+$/, "") : path;
  return { kind: "folder", path: clean, url: pathToFileURL(clean).href };
}
