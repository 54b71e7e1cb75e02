// Where a passphrase comes from: the caller (--passphrase-file), CAIRN_PASSPHRASE (scripts
// and tests), or the terminal, read from /dev/tty with echo off so that stdin and stdout
// stay free for the stream.
import { openSync, writeSync } from "node:fs";
import { ReadStream } from "node:tty";
import { CairnError } from "@cairn/errors";

export const PASSPHRASE_ENV = "CAIRN_PASSPHRASE";

/** The passphrase from the environment, or from the terminal; a key error if neither exists. */
export async function obtainPassphrase(prompt: string, opts: { confirm?: boolean } = {}): Promise<string> {
  const fromEnv = process.env[PASSPHRASE_ENV];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const first = await readFromTerminal(prompt);
  if (opts.confirm) {
    const second = await readFromTerminal("Confirm passphrase: ");
    if (first !== second) throw new CairnError("key", "the passphrases do not match");
  }
  if (first === "") throw new CairnError("key", "empty passphrase");
  return first;
}

/** The first line of a passphrase file (trailing CR/LF removed). */
export function passphraseFromFile(text: string): string {
  const line = text.split(/\r?\n/, 1)[0] ?? "";
  if (line === "") throw new CairnError("key", "the passphrase file is empty");
  return line;
}

function readFromTerminal(prompt: string): Promise<string> {
  let fd: number;
  try {
    fd = openSync("/dev/tty", "r+");
  } catch {
    throw new CairnError("key", `a passphrase is needed and there is no terminal to ask: set ${PASSPHRASE_ENV} or use --passphrase-file`);
  }
  writeSync(fd, prompt);
  const input = new ReadStream(fd);
  input.setRawMode(true);
  return new Promise((resolve, reject) => {
    let text = "";
    const finish = (err?: CairnError) => {
      input.setRawMode(false);
      input.removeAllListeners("data");
      writeSync(fd, "\n");
      input.destroy(); // closes fd
      if (err) reject(err);
      else resolve(text);
    };
    input.on("data", (data: Buffer) => {
      for (const ch of data.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return finish();
        if (ch === "\u0003") return finish(new CairnError("interrupted", "passphrase entry interrupted"));
        if (ch === "\u0004" && text === "") return finish(new CairnError("key", "no passphrase given"));
        if (ch === "\u007f" || ch === "\b") text = [...text].slice(0, -1).join("");
        else text += ch;
      }
    });
  });
}
