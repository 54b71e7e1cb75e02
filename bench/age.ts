// age layer throughput (docs/benchmarks/age.md; bench/age.sh writes it).
//   node bench/age.ts [MiB]   prints the results as a Markdown section on stdout
// Seals and opens 1 MiB chunks with one session (node:crypto ChaCha20-Poly1305), against
// age-encryption's own Encrypter/Decrypter (pure JS, one file key per file), and measures
// what a session costs to start (wrap) and to open the first time (unwrap).
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { Decrypter, Encrypter } from "age-encryption";
import {
  FileKeyCache, generateHybridIdentity, generateIdentity, identityToRecipient, newSession, openFile, sealWithSession,
} from "@cairn/age";

const mib = Number(process.argv[2] ?? 256);
const CHUNK = 1 << 20;

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

const rate = (bytes: number, s: number) => (bytes / s / 1e6).toFixed(0);

const x25519 = await generateIdentity();
const xRecipient = await identityToRecipient(x25519);
const hybrid = await generateHybridIdentity();
const hRecipient = await identityToRecipient(hybrid);
// Distinct plaintexts, so nothing benefits from a warm cache of one buffer.
const chunks = Array.from({ length: 16 }, () => randomBytes(CHUNK));
const rows: string[] = [];

{
  const session = await newSession([xRecipient]);
  const cache = new FileKeyCache();
  await openFile(sealWithSession(session, chunks[0]), [x25519], cache); // warm up, fill the cache
  let t = process.hrtime.bigint();
  const sealed: Uint8Array[] = [];
  for (let i = 0; i < mib; i++) {
    const f = sealWithSession(session, chunks[i % chunks.length]);
    if (i < chunks.length) sealed.push(f);
  }
  const sealS = seconds(t);
  t = process.hrtime.bigint();
  for (let i = 0; i < mib; i++) await openFile(sealed[i % sealed.length], [x25519], cache);
  const openS = seconds(t);
  rows.push(`| cairn sealWithSession (node:crypto) | ${rate(mib * CHUNK, sealS)} |`);
  rows.push(`| cairn openFile, cached header (node:crypto) | ${rate(mib * CHUNK, openS)} |`);
}

{
  const n = Math.max(8, Math.floor(mib / 8));
  const enc = new Encrypter();
  enc.addRecipient(xRecipient);
  const dec = new Decrypter();
  dec.addIdentity(x25519);
  let t = process.hrtime.bigint();
  const files: Uint8Array[] = [];
  for (let i = 0; i < n; i++) files.push(await enc.encrypt(chunks[i % chunks.length]));
  const encS = seconds(t);
  t = process.hrtime.bigint();
  for (const f of files) await dec.decrypt(f);
  const decS = seconds(t);
  rows.push(`| age-encryption Encrypter.encrypt (a file key per file) | ${rate(n * CHUNK, encS)} |`);
  rows.push(`| age-encryption Decrypter.decrypt | ${rate(n * CHUNK, decS)} |`);
}

const costRows: string[] = [];
for (const [name, identity, recipient] of [["X25519", x25519, xRecipient], ["ML-KEM-768 + X25519", hybrid, hRecipient]] as const) {
  const n = 20;
  await newSession([recipient]); // warm up
  let t = process.hrtime.bigint();
  const files: Uint8Array[] = [];
  for (let i = 0; i < n; i++) files.push(sealWithSession(await newSession([recipient]), new Uint8Array(0)));
  const wrapMs = (seconds(t) * 1000) / n;
  t = process.hrtime.bigint();
  for (const f of files) await openFile(f, [identity]); // no cache: every call unwraps
  const unwrapMs = (seconds(t) * 1000) / n;
  costRows.push(`| ${name} | ${wrapMs.toFixed(2)} | ${unwrapMs.toFixed(2)} |`);
}

process.stdout.write(`# age layer

Command: \`node bench/age.ts ${mib}\` (via \`bash bench/run.sh age\`), Node ${process.version}, one core;
load average ${loadavg().map((l) => l.toFixed(1)).join(" ")} at the end (other work on the machine slows these numbers).
${mib} MiB in 1 MiB chunks (16 distinct random buffers, cycled), one X25519 recipient.

| operation | MB/s |
|---|---|
${rows.join("\n")}

Starting a session (newSession: wrap a fresh file key) and opening a file whose header is
not cached yet (parse, unwrap, check the header MAC), mean of 20:

| recipient type | newSession ms | first openFile ms |
|---|---|---|
${costRows.join("\n")}
`);
