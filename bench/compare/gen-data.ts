// The benchmark's input tree: MiB mebibytes, half random bytes (incompressible), half pseudo-text
// (words drawn by a keystream, so nothing repeats by accident and zstd gets about 3:1), in files
// of a few sizes: big ones (64 MiB), middling (4 MiB) and a spread of small ones (4–64 KiB).
//   node bench/compare/gen-data.ts DIR [MiB]   (default 1024)
// Deterministic: the same MiB gives the same tree, so every tool in a run reads the same bytes.
import { createCipheriv, createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2];
const mib = Number(process.argv[3] ?? 1024);
if (!dir || !(mib >= 8)) {
  process.stderr.write("usage: node bench/compare/gen-data.ts DIR [MiB ≥ 8]\n");
  process.exit(2);
}

const WORDS = ("the of and to in is was for that with as on by at from his her it an be this are which or had not but were have one " +
  "all their they been has its more who would when will there if can no out so what up into only other some time than them new " +
  "also two first may any these most over such after very backup restore chunk seal push pull pack index snapshot manifest").split(" ");

function randomBlock(seed: string, n: number): Buffer {
  const key = createHash("sha256").update(seed).digest();
  return createCipheriv("chacha20", key, Buffer.alloc(16)).update(Buffer.alloc(n));
}

function textBlock(seed: string, n: number): Buffer {
  const r = randomBlock(seed, n);
  const out = Buffer.allocUnsafe(n + 16);
  let at = 0;
  for (let i = 0; at < n; i++) {
    at += out.write(WORDS[r[i % n] % WORDS.length], at, "latin1");
    out[at++] = r[(i + 7) % n] % 13 === 0 ? 0x0a : 0x20;
  }
  return out.subarray(0, n);
}

function writeFile(path: string, bytes: number, text: boolean, seed: string): void {
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes; at += 1 << 20) {
    const n = Math.min(1 << 20, bytes - at);
    parts.push(text ? textBlock(`${seed} ${at}`, n) : randomBlock(`${seed} ${at}`, n));
  }
  writeFileSync(path, Buffer.concat(parts));
}

/** Half of `total` bytes in one kind: 3/4 in 64 MiB files, 3/16 in 4 MiB files, the rest in small ones. */
function fill(sub: string, total: number, text: boolean): void {
  const base = join(dir, sub);
  let left = total;
  const big = Math.floor((total * 3) / 4 / (64 << 20));
  mkdirSync(join(base, "big"), { recursive: true });
  for (let i = 0; i < big; i++, left -= 64 << 20) writeFile(join(base, "big", `b${i}`), 64 << 20, text, `${sub} big ${i}`);
  const mid = Math.floor((total * 3) / 16 / (4 << 20));
  mkdirSync(join(base, "mid"), { recursive: true });
  for (let i = 0; i < mid; i++, left -= 4 << 20) writeFile(join(base, "mid", `m${i}`), 4 << 20, text, `${sub} mid ${i}`);
  for (let i = 0; left > 0; i++) {
    const d = join(base, "small", `d${i >> 6}`);
    if (i % 64 === 0) mkdirSync(d, { recursive: true });
    const size = Math.min(left, 4096 << (i % 5));
    writeFile(join(d, `s${i}`), size, text, `${sub} small ${i}`);
    left -= size;
  }
}

const half = (mib << 20) / 2;
fill("random", half, false);
fill("text", half, true);
