// `--endpoint URL` and `--path-style` / `--no-path-style` for every tool that opens a repository
// (docs/storage.md, "S3 settings"). They set the environment the storage layer reads
// (CAIRN_S3_ENDPOINT, CAIRN_S3_PATH_STYLE), so they reach every repository a tool opens,
// worker threads included, and the dispatcher takes them out of the arguments before the tool
// parses its own. Read here rather than in @cairn/storage so that tools which never open a
// repository do not load the AWS SDK.
import { CairnError } from "@cairn/errors";

export const STORAGE_ARGS = {
  endpoint: {
    type: "string",
    description: "S3 endpoint for s3:// URLs, e.g. http://127.0.0.1:7480 (default $CAIRN_S3_ENDPOINT, $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, else AWS)",
    valueHint: "URL",
  },
  "path-style": { type: "boolean", description: "S3 path-style requests (default: on with an endpoint, off for AWS; $CAIRN_S3_PATH_STYLE)" },
} as const;

/** `argv` without the storage flags, which are applied to process.env (up to a `--`). */
export function takeStorageFlags(argv: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    if (a === "--endpoint" || a.startsWith("--endpoint=")) {
      const value = a === "--endpoint" ? argv[++i] : a.slice("--endpoint=".length);
      if (value === undefined || !/^https?:\/\/[^/\s]+/.test(value)) {
        throw new CairnError("usage", `--endpoint needs an http:// or https:// URL${value === undefined ? "" : `, got ${value}`}`);
      }
      env.CAIRN_S3_ENDPOINT = value;
    } else if (a === "--path-style") env.CAIRN_S3_PATH_STYLE = "1";
    else if (a === "--no-path-style") env.CAIRN_S3_PATH_STYLE = "0";
    else rest.push(a);
  }
  return rest;
}
