import { CairnError } from "@cairn/errors";

/** Decodes exactly `bytes` bytes of lowercase or uppercase hex, or throws a key error naming `what`. */
export function fromHex(text: string, bytes: number, what: string): Uint8Array {
  if (!new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(text)) {
    throw new CairnError("key", `${what} is not ${bytes} bytes of hex`);
  }
  return new Uint8Array(Buffer.from(text, "hex"));
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("hex");
}
