// Trusted writers (docs/keys.md, "Trust file") live in @cairn/trust, which transport hosts load
// without any key code; `cairn key pin` and `cairn key writer` reach them through here.
export { readTrustedWriters, pinWriter, trustFilePath, WRITERS_ENV } from "@cairn/trust";
