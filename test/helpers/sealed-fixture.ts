// Sealed streams for testing the keyless tools (push, pull --raw, ls) before or without `seal`:
// push never opens a sealed object, so a data chunk's bytes can be any bytes. The clear objects
// (refs blocks and root) and the COMMIT are built exactly as docs/protocol.md says, so pull can
// follow them. Real pipelines (snapshot | chunk | seal | push) are tested separately.
import { createHash, randomBytes } from "node:crypto";
import { FrameType, encodeFrames, type Frame } from "@cairn/protocol";

const sha = (...parts: (string | Uint8Array)[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

export interface FixtureObject {
  kind: number;
  id: Uint8Array;
  bytes: Uint8Array;
}

export interface FixtureSnapshot {
  objects: FixtureObject[];
  commit: Record<string, unknown>;
}

/** A snapshot of the given chunk contents: data chunks, one manifest chunk, a manifest root, one refs block, the refs root. */
export function fixtureSnapshot(chunks: Uint8Array[], opts: { keyset: string; host?: string; time?: string; label?: string; tags?: string[]; partial?: number; unverified?: boolean }): FixtureSnapshot {
  const data = chunks.map((c) => ({ kind: 1, id: sha("data", c), bytes: c }));
  const manifestBytes = new Uint8Array(Buffer.concat([Buffer.from("manifest"), ...data.map((d) => Buffer.from(d.id))]));
  const manifest = { kind: 2, id: sha("manifest", manifestBytes), bytes: manifestBytes };
  const rootBytes = new Uint8Array(Buffer.concat([Buffer.from("root"), Buffer.from(manifest.id)]));
  const root = { kind: 3, id: sha("root", rootBytes), bytes: rootBytes };
  const listed = [...new Set([...data, manifest, root].map((o) => Buffer.from(o.id).toString("hex")))].sort();
  const blockBytes = new Uint8Array(Buffer.concat(listed.map((h) => Buffer.from(h, "hex"))));
  const block = { kind: 4, id: sha(blockBytes), bytes: blockBytes };
  const refsRoot = { kind: 5, id: sha(block.id), bytes: block.id };
  const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
  const commit = {
    v: 1,
    time: opts.time ?? new Date().toISOString(),
    host: opts.host ?? "testhost",
    label: opts.label ?? "test",
    tags: opts.tags ?? [],
    writer: "ab".repeat(32),
    keyset: opts.keyset,
    manifest: hex(root.id),
    refs: hex(refsRoot.id),
    stats: { bytes: chunks.reduce((n, c) => n + c.length, 0) },
    ...(opts.partial ? { partial: opts.partial } : {}),
    ...(opts.unverified ? { unverified: true } : {}),
    sig: "00".repeat(64),
  };
  return { objects: [manifest, ...data, root, block, refsRoot], commit };
}

/** The sealed stream of a fixture snapshot; objects whose hex id is in `known` go as SEALED_REF. */
export function* fixtureFrames(s: FixtureSnapshot, opts: { known?: Set<string>; end?: Record<string, unknown> } = {}): Generator<Frame> {
  const c = s.commit as Record<string, any>;
  yield { type: FrameType.START, meta: { stream: "sealed", host: c.host, time: c.time, label: c.label, tags: c.tags, keyset: c.keyset, writer: c.writer } };
  for (const o of s.objects) {
    const hex = Buffer.from(o.id).toString("hex");
    if (opts.known?.has(hex)) {
      const ref = new Uint8Array(33);
      ref[0] = o.kind;
      ref.set(o.id, 1);
      yield { type: FrameType.SEALED_REF, data: ref };
    } else {
      const payload = new Uint8Array(33 + o.bytes.length);
      payload[0] = o.kind;
      payload.set(o.id, 1);
      payload.set(o.bytes, 33);
      yield { type: FrameType.SEALED, data: payload };
    }
  }
  yield { type: FrameType.COMMIT, meta: c };
  yield { type: FrameType.END, meta: { partial: c.partial ?? 0, unverified: c.unverified === true, ...opts.end } };
}

export async function fixtureStream(s: FixtureSnapshot, opts: { known?: Set<string>; end?: Record<string, unknown> } = {}): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of encodeFrames(fixtureFrames(s, opts))) parts.push(p);
  return Buffer.concat(parts);
}

/** n random chunks of about `size` bytes each. */
export function randomChunks(n: number, size: number): Uint8Array[] {
  return Array.from({ length: n }, () => new Uint8Array(randomBytes(size)));
}
