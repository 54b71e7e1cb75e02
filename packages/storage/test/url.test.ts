import { describe, expect, it } from "vitest";
import { CairnError } from "@cairn/errors";
import { parseStorageUrl } from "../src/url.js";

function usageError(url: string): string {
  try {
    parseStorageUrl(url);
  } catch (err) {
    expect(err).toBeInstanceOf(CairnError);
    expect((err as CairnError).kind).toBe("usage");
    return (err as CairnError).message;
  }
  throw new Error(`${url} was accepted`);
}

describe("repository URLs", () => {
  it("reads s3://bucket/prefix, trimming slashes", () => {
    expect(parseStorageUrl("s3://backups/prod")).toEqual({ kind: "s3", bucket: "backups", prefix: "prod", url: "s3://backups/prod" });
    expect(parseStorageUrl("s3://backups/prod/db/")).toEqual({ kind: "s3", bucket: "backups", prefix: "prod/db", url: "s3://backups/prod/db" });
    expect(parseStorageUrl("s3://backups")).toEqual({ kind: "s3", bucket: "backups", prefix: "", url: "s3://backups" });
    expect(parseStorageUrl("s3://backups/")).toEqual({ kind: "s3", bucket: "backups", prefix: "", url: "s3://backups" });
  });

  it("reads file:// URLs and plain paths as folders", () => {
    expect(parseStorageUrl("file:///mnt/offsite/prod")).toEqual({ kind: "folder", path: "/mnt/offsite/prod", url: "file:///mnt/offsite/prod" });
    expect(parseStorageUrl("file:///mnt/with%20space/")).toEqual({ kind: "folder", path: "/mnt/with space", url: "file:///mnt/with%20space" });
    expect(parseStorageUrl("/srv/repo")).toMatchObject({ kind: "folder", path: "/srv/repo", url: "file:///srv/repo" });
    expect(parseStorageUrl("relative/repo")).toMatchObject({ kind: "folder", path: `${process.cwd()}/relative/repo` });
  });

  it("refuses what it cannot open, saying what is wrong", () => {
    expect(usageError("s3://Bad_Bucket/x")).toMatch(/invalid S3 bucket name/);
    expect(usageError("s3:///x")).toMatch(/invalid S3 bucket name/);
    expect(usageError("s3://b-ok/a/../b")).toMatch(/invalid prefix/);
    expect(usageError("s3://b-ok/a//b")).toMatch(/invalid prefix/);
    expect(usageError("gs://bucket/x")).toMatch(/unsupported repository URL/);
    expect(usageError("file://host/x")).toMatch(/invalid file URL/);
    expect(usageError("")).toMatch(/empty/);
  });
});
