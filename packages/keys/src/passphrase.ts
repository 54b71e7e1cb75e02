// Where a passphrase comes from: the caller (--passphrase-file), CAIRN_PASSPHRASE (scripts
// and tests), or the terminal, read from /dev/tty with echo off so that stdin and stdout
// stay free for the stream.
import { openSync, readFileSync, writeSync } from "node:fs";
import { ReadStream } from "node:tty";
import { CairnError, toCairnError } from "@cairn/errors";

export const PASSPHRASE_ENV = "CAIRN_PASSPHRASE";

/** The passphrase from the environment, or from the terminal; a key error if neither exists. */
export async function obtainPassphrase(prompt: string, opts: { confirm?: boolean } = {}): Promise<string> {
  const fromEnv = process.env[PASSPHRASE_ENV];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const answers = await askTerminal(opts.confirm ? [prompt, "Confirm passphrase: "] : [prompt]);
  if (answers.some((a) => a !== answers[0])) throw new CairnError("key", "the passphrases do not match");
  if (answers[0] === "") throw new CairnError("key", "empty passphrase");
  return answers[0];
}

/** The first line of a passphrase file (trailing CR/LF removed). */
export function passphraseFromFile(text: string): string {
  const line = text.split(/\r?\n/, 1)[0] ?? "";
  if (line === "") throw new CairnError("key", "the passphrase file is empty");
  return line;
}

/** The passphrase in `file` (--passphrase-file), or undefined when no file is named. */
export function readPassphraseFile(file: string | undefined): string | undefined {
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const e = toCairnError(err);
    throw new CairnError(e.kind, `cannot read the passphrase file ${file}: ${e.message}`);
  }
  return passphraseFromFile(text);
}

/** Asks each prompt in turn on /dev/tty with echo off; one read session, so typed-ahead lines are kept. */
function askTerminal(prompts: string[]): Promise<string[]> {
  let fd: number;
  try {
    fd = openSync("/dev/tty", "r+");
  } catch {
    throw new CairnError("key", `a passphrase is needed and there is no terminal to ask: set ${PASSPHRASE_ENV} or use --passphrase-file`);
  }
  const input = new ReadStream(fd);
  input.setRawMode(true);
  const answers: string[] = [];
  writeSync(fd, prompts[0]);
  return new Promise((resolve, reject) => {
    let text = "";
    const finish = (err?: CairnError) => {
      input.setRawMode(false);
      input.removeAllListeners("data");
      input.destroy(); // closes fd
      if (err) reject(err);
      else resolve(answers);
    };
    input.on("data", (data: Buffer) => {
      for (const ch of data.toString("utf8")) {
        if (ch === "\r" || ch === "\n") {
          writeSync(fd, "\n");
          answers.push(text);
          text = "";
          if (answers.length === prompts.length) return finish();
          writeSync(fd, prompts[answers.length]);
        } else if (ch === "\u0003") {
          writeSync(fd, "\n");
          return finish(new CairnError("interrupted", "passphrase entry interrupted"));
        } else if (ch === "\u0004" && text === "") {
          writeSync(fd, "\n");
          return finish(new CairnError("key", "no passphrase given"));
        } else if (ch === "\u007f" || ch === "\b") {
          text = [...text].slice(0, -1).join("");
        } else {
          text += ch;
        }
      }
    });
  });
}
