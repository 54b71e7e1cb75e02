// age-encryption (with its noble curve and ML-KEM code) takes a noticeable time to load, and
// only key wrapping and unwrapping need it: sealing and opening under a known session do not.
// Loading it on first use keeps it out of every seal worker and every tool that only reads a
// writer key.
type AgeEncryption = typeof import("age-encryption");

let loading: Promise<AgeEncryption> | undefined;

export function ageEncryption(): Promise<AgeEncryption> {
  loading ??= import("age-encryption");
  return loading;
}
