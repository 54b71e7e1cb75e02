// The header MAC (C2SP age, "Header MAC"): HMAC-SHA256 keyed with
// HKDF-SHA256(ikm = file key, salt = empty, info = "header"), over the header through "---".
import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";

export function headerMac(fileKey: Uint8Array, headerNoMac: Uint8Array): Uint8Array {
  const key = new Uint8Array(hkdfSync("sha256", fileKey, new Uint8Array(0), "header", 32));
  return new Uint8Array(createHmac("sha256", key).update(headerNoMac).digest());
}

export function macMatches(fileKey: Uint8Array, headerNoMac: Uint8Array, mac: Uint8Array): boolean {
  const expected = headerMac(fileKey, headerNoMac);
  return mac.length === expected.length && timingSafeEqual(mac, expected);
}
