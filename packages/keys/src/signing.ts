// Writer signing keys: Ed25519 (node:crypto). The key file stores the 32-byte seed; the
// public key travels as 64 hex characters (the raw 32-byte key).
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { toHex } from "./hex.js";

// PKCS#8 DER prefix for an Ed25519 private key (RFC 8410): the 32-byte seed follows.
const PKCS8_ED25519 = Buffer.from("302e020100300506032b657004220420", "hex");

export function newSigningSeed(): Uint8Array {
  const { privateKey } = generateKeyPairSync("ed25519");
  return new Uint8Array(Buffer.from(privateKey.export({ format: "jwk" }).d as string, "base64url"));
}

export function signingKeyFromSeed(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: "der", type: "pkcs8" });
}

/** The hex raw public key of an Ed25519 private or public KeyObject. */
export function publicKeyHex(key: KeyObject): string {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  return toHex(new Uint8Array(Buffer.from(pub.export({ format: "jwk" }).x as string, "base64url")));
}

export { publicKeyFromHex } from "@cairn/trust";
