// Creates or removes a benchmark bucket on the S3 endpoint in CAIRN_S3_ENDPOINT.
//   node bench/compare/bucket.ts create|destroy BUCKET
import { createBucket, destroyBucket } from "@cairn/storage";

const [what, bucket] = process.argv.slice(2);
const url = `s3://${bucket}`;
if (what === "create") await createBucket(url, {});
else if (what === "destroy") await destroyBucket(url);
else {
  process.stderr.write("usage: node bench/compare/bucket.ts create|destroy BUCKET\n");
  process.exit(2);
}
