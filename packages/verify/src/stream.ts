// `cairn verify -`: checks a cairn stream on stdin instead of a repository (docs/verify.md,
// "Streams"). The decoder checks framing, CRCs, order, counts and the END digest for every kind
// (a damaged stream is exit 10, an upstream ERROR frame 12). Then, by kind:
//   plain    every file's size and SHA-256 against its ENTRY_END;
//   chunked  the reference window replay (every CHUNK_REF resolvable); with the owner key every
//            chunk against its keyed id (chunk -d), then the file digests;
//   sealed   clear objects against their ids, refs blocks in refs-root order, the COMMIT's
//            signature by a pinned writer and its match with START; with the owner key the
//            whole of seal -d and chunk -d, then the file digests.
import { createHash } from "node:crypto";
import { CairnError } from "@cairn/errors";
import { DEFAULT_REF_WINDOW, FrameType, RefWindow, decodeFrames, type Frame } from "@cairn/protocol";
import { verifyCommit } from "@cairn/trust";
import { Report } from "./report.js";
import { checkFileDigests } from "./file-digests.js";

export interface StreamVerifyOptions {
  trusted: Set<string>;
  /** Owner key files: open a sealed stream, check chunk ids in a chunked one. */
  identity?: string[];
  passphrase?: string;
}

const KINDS_THAT_ARE_DAMAGE = ["integrity", "key"];

export async function verifyStream(input: AsyncIterable<Uint8Array>, opts: StreamVerifyOptions): Promise<Report> {
  const started = Date.now();
  const report = new Report("stdin");
  const it = decodeFrames(input)[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done || first.value.type !== FrameType.START) throw new CairnError("stream", "the stream has no START frame");
  const start = first.value.meta!;
  const frames: AsyncIterable<Frame> = {
    [Symbol.asyncIterator]: async function* () {
      yield first.value;
      for (let s = await it.next(); !s.done; s = await it.next()) yield s.value;
    },
  };
  report.note(`a ${String(start.stream)} stream`);
  try {
    switch (start.stream) {
      case "plain":
        await checkPlain(frames, report);
        break;
      case "chunked":
        if (opts.identity?.length) {
          const { dechunkStream } = await import("@cairn/chunk");
          const { readOwnerSecrets } = await import("@cairn/seal");
          const { idKey } = await readOwnerSecrets(opts.identity, { passphrase: opts.passphrase });
          await checkPlain(dechunkStream(frames, { idKey }), report);
        } else await checkChunkedKeyless(frames, report);
        break;
      case "sealed":
        if (opts.identity?.length) {
          const { dechunkStream } = await import("@cairn/chunk");
          const { readOwnerSecrets, unseal } = await import("@cairn/seal");
          const { identities, idKey } = await readOwnerSecrets(opts.identity, { passphrase: opts.passphrase });
          await checkPlain(dechunkStream(unseal(frames, { identities, idKey, trusted: opts.trusted }), { idKey }), report);
        } else await checkSealedKeyless(frames, start, opts.trusted, report);
        break;
      default:
        throw new CairnError("stream", `unknown stream kind ${JSON.stringify(start.stream)}`);
    }
  } catch (err) {
    if (!(err instanceof CairnError) || !KINDS_THAT_ARE_DAMAGE.includes(err.kind)) throw err;
    // A key that opens nothing is the caller's problem, not the stream's.
    if (err.kind === "key" && !/not pinned/.test(err.message)) throw err;
    report.problem(err.kind === "key" ? "unsigned" : "object", "the stream", err.message);
  }
  report.stats.seconds = (Date.now() - started) / 1000;
  return report;
}

/** Every file's content against its ENTRY_END size and SHA-256. */
async function checkPlain(frames: AsyncIterable<Frame>, report: Report): Promise<void> {
  await checkFileDigests(frames, (m) => {
    if (m) report.problem("object", `file ${m.path}`, `its content (${m.size} bytes, SHA-256 ${m.sha256.slice(0, 16)}…) does not match its ENTRY_END (${m.recordedSize} bytes, ${String(m.recordedSha256).slice(0, 16)}…)`);
    report.stats.filesRestored++;
  });
}

/** Without the id key a chunk cannot be checked; the reference window replay can. */
async function checkChunkedKeyless(frames: AsyncIterable<Frame>, report: Report): Promise<void> {
  let window = new RefWindow(DEFAULT_REF_WINDOW);
  for await (const f of frames) {
    if (f.type === FrameType.START) {
      const limit = f.meta!.refWindow;
      window = new RefWindow(typeof limit === "number" ? limit : DEFAULT_REF_WINDOW);
    } else if (f.type === FrameType.CHUNK) {
      window.add(Buffer.from(f.data!.subarray(0, 32)).toString("hex"), f.data!.length - 32, undefined);
      report.stats.objects++;
    } else if (f.type === FrameType.CHUNK_REF) {
      const key = Buffer.from(f.data!.subarray(0, 32)).toString("hex");
      if (!window.has(key)) report.problem("object", `chunk reference ${key}`, "refers to a chunk outside the reference window: chunk -d cannot resolve it");
      report.stats.objects++;
    }
  }
  report.note("chunk ids need the id key: give -i OWNER_KEY to check them");
}

/** Without a key: clear objects, refs order, and the COMMIT's signature and its match with START. */
async function checkSealedKeyless(frames: AsyncIterable<Frame>, start: Record<string, any>, trusted: Set<string>, report: Report): Promise<void> {
  const blocks: string[] = [];
  let refsRoot: Buffer | undefined;
  let refsRootId = "";
  let commit: Record<string, any> | undefined;
  for await (const f of frames) {
    if (f.type === FrameType.SEALED) {
      const kind = f.data![0];
      const id = Buffer.from(f.data!.subarray(1, 33)).toString("hex");
      const bytes = f.data!.subarray(33);
      report.stats.objects++;
      if (kind === 4 || kind === 5) {
        if (createHash("sha256").update(bytes).digest("hex") !== id) report.problem("object", `${kind === 4 ? "refs block" : "refs root"} ${id}`, "its bytes do not hash to its id");
        if (kind === 4) blocks.push(id);
        else {
          refsRoot = Buffer.from(bytes);
          refsRootId = id;
        }
      }
    } else if (f.type === FrameType.SEALED_REF) {
      report.stats.objects++;
    } else if (f.type === FrameType.COMMIT) {
      commit = f.meta!;
    }
  }
  if (!commit) {
    report.problem("unsigned", "the stream", "it carries no COMMIT: nothing proves who wrote it");
    return;
  }
  try {
    verifyCommit(commit, trusted);
  } catch (err) {
    if (!(err instanceof CairnError)) throw err;
    report.problem(err.kind === "key" ? "unsigned" : "forged", "the stream's COMMIT", err.message);
  }
  for (const f of ["writer", "keyset", "time", "host"]) {
    if (start[f] !== commit[f]) report.problem("forged", "the stream's START", `its ${f} (${JSON.stringify(start[f])}) is not the signed COMMIT's (${JSON.stringify(commit[f])})`);
  }
  if (refsRoot) {
    if (refsRootId !== commit.refs) report.problem("refs", `refs root ${refsRootId}`, `is not the refs root the COMMIT names (${commit.refs})`);
    const listed: string[] = [];
    for (let i = 0; i < refsRoot.length; i += 32) listed.push(refsRoot.subarray(i, i + 32).toString("hex"));
    // A stream made with --known may leave out blocks the repository holds; those carried must be in order.
    let at = 0;
    for (const b of blocks) {
      while (at < listed.length && listed[at] !== b) at++;
      if (at === listed.length) {
        report.problem("refs", `refs block ${b}`, "is not listed by the refs root, in order");
        break;
      }
      at++;
    }
  }
  report.note("sealed objects need the owner key: give -i OWNER_KEY to open and authenticate them");
}
