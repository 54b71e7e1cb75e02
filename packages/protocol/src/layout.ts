// Fixed layouts that the framing layer checks (docs/protocol.md, "Frame types"), so that no
// stage indexes past the end of a payload that a damaged or hostile stream handed it.
import { FrameType } from "./frames.js";

export const ID_SIZE = 32;

/** The kinds of object a SEALED / SEALED_REF frame carries (docs/protocol.md, "Sealed stream"). */
export const SealedKind = {
  DATA_CHUNK: 1,
  MANIFEST_CHUNK: 2,
  MANIFEST_ROOT: 3,
  REFS_BLOCK: 4,
  REFS_ROOT: 5,
} as const;

export const STREAM_KINDS = ["plain", "chunked", "sealed"] as const;

/** Why a binary frame's payload does not fit its type's layout, or undefined when it does. */
export function checkBinaryLayout(type: number, payload: Uint8Array): string | undefined {
  switch (type) {
    case FrameType.CHUNK:
      return payload.length < ID_SIZE ? `${payload.length} bytes, shorter than a ${ID_SIZE}-byte chunk id` : undefined;
    case FrameType.CHUNK_REF:
      return payload.length !== ID_SIZE + 4 ? `${payload.length} bytes, not ${ID_SIZE + 4} (id + length)` : undefined;
    case FrameType.SEALED:
    case FrameType.SEALED_REF: {
      const fixed = 1 + ID_SIZE;
      if (type === FrameType.SEALED ? payload.length < fixed : payload.length !== fixed) {
        return `${payload.length} bytes, ${type === FrameType.SEALED ? "shorter than" : "not"} ${fixed} (kind + id)`;
      }
      return payload[0] >= SealedKind.DATA_CHUNK && payload[0] <= SealedKind.REFS_ROOT ? undefined : `unknown object kind ${payload[0]}`;
    }
    default:
      return undefined;
  }
}

/** Why a START frame's JSON is not acceptable, or undefined. */
export function checkStartMeta(meta: Record<string, unknown>): string | undefined {
  const kind = meta.stream;
  if (typeof kind !== "string" || !(STREAM_KINDS as readonly string[]).includes(kind)) {
    return `names no known stream kind (stream: ${(JSON.stringify(kind) ?? "missing").slice(0, 40)}; expected plain, chunked or sealed)`;
  }
  return undefined;
}
