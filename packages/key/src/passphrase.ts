// --passphrase-file for `cairn key`: @cairn/keys reads it (one reader for every tool).
export { readPassphraseFile as passphraseOption } from "@cairn/keys";
