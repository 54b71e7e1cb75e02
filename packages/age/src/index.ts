// @cairn/age: the age v1 file format (C2SP age) as cairn uses it. docs/age.md.
export { newSession, sealWithSession, type Session } from "./session.js";
export { openFile, openWith, FileKeyCache, type Secrets } from "./open.js";
export { encryptWithPassphrase, decryptWithPassphrase, isAgeFile, DEFAULT_WORK_FACTOR } from "./passphrase.js";
export { dearmor, enarmor, isArmored } from "./armor.js";
export { parseHeader, encodeHeader, encodeHeaderNoMac, type Header, type Stanza } from "./format.js";
export { headerMac } from "./mac.js";
export { encryptStream, decryptStream, payloadKey, sealedSize, CHUNK_BYTES, NONCE_BYTES } from "./stream.js";
export { generateIdentity, generateHybridIdentity, identityToRecipient } from "./identity.js";
