// Object ids and kinds as they appear in sealed streams and in the repository
// (docs/repository.md, "Objects"). Ids are 32 bytes; kinds are the sealed-stream kinds, so both
// come from the protocol's one definition.
import { ID_SIZE, SealedKind } from "@cairn/protocol";

export { ID_SIZE };

export const ObjectKind = {
  data: SealedKind.DATA_CHUNK, // a sealed data chunk (age file)
  manifest: SealedKind.MANIFEST_CHUNK, // a sealed manifest chunk (age file)
  manifestRoot: SealedKind.MANIFEST_ROOT, // the sealed manifest root (age file)
  refsBlock: SealedKind.REFS_BLOCK, // clear: sorted 32-byte ids the snapshot references
  refsRoot: SealedKind.REFS_ROOT, // clear: the refs block ids in order
} as const;

export type ObjectKindCode = (typeof ObjectKind)[keyof typeof ObjectKind];

export function isObjectKind(k: number): k is ObjectKindCode {
  return k >= SealedKind.DATA_CHUNK && k <= SealedKind.REFS_ROOT;
}

const kindNames = ["", "data chunk", "manifest chunk", "manifest root", "refs block", "refs root"];

/** How messages name an object kind. */
export function kindName(k: number): string {
  return kindNames[k] || `object of kind ${k}`;
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

export function isHexId(s: string): boolean {
  return /^[0-9a-f]{64}$/.test(s);
}

export function fromHexId(s: string): Uint8Array {
  if (!isHexId(s)) throw new TypeError(`not a 64-digit hex id: ${s.slice(0, 80)}`);
  return new Uint8Array(Buffer.from(s, "hex"));
}

/** Byte-wise comparison of the 32-byte ids at a[ai*32…] and b[bi*32…]. */
export function compareIds(a: Uint8Array, ai: number, b: Uint8Array, bi: number): number {
  const ao = ai * ID_SIZE;
  const bo = bi * ID_SIZE;
  for (let i = 0; i < ID_SIZE; i++) {
    const d = a[ao + i] - b[bo + i];
    if (d !== 0) return d;
  }
  return 0;
}

/** Binary search for the 32-byte key at key[at*32…] among n sorted ids: its position, or -1. */
export function searchIds(ids: Uint8Array, n: number, key: Uint8Array, at: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareIds(ids, mid, key, at);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
