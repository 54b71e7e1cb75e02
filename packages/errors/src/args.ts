// Flag helpers for commands whose flags citty cannot express: citty keeps only the last value of
// a repeated flag and lets unknown flags through, so these read rawArgs (snapshot, and the fused
// backup and restore, which take several stages' flags at once).
import type { ArgsDef } from "citty";
import { CairnError } from "./error.js";

/** The arguments before a "--", and the ones after it (a command to run). */
export function splitDashDash(rawArgs: string[]): { own: string[]; command: string[] } {
  const i = rawArgs.indexOf("--");
  return i === -1 ? { own: rawArgs, command: [] } : { own: rawArgs.slice(0, i), command: rawArgs.slice(i + 1) };
}

/** Every value of a repeatable flag (`--tag a --tag b`, `--tag=a`, `-i a -i b`), in order. */
export function repeated(own: string[], names: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < own.length; i++) {
    const a = own[i];
    const name = names.find((n) => a === n);
    if (name) {
      if (i + 1 >= own.length) throw new CairnError("usage", `${name} needs a value (see --help)`);
      out.push(own[++i]);
      continue;
    }
    const long = names.find((n) => n.startsWith("--") && a.startsWith(`${n}=`));
    if (long) {
      out.push(a.slice(long.length + 1));
      continue;
    }
    // A value glued to a short flag: -iowner.key.
    const short = names.find((n) => /^-[^-]$/.test(n) && a.startsWith(n) && a.length > n.length);
    if (short) out.push(a.slice(short.length));
  }
  return out;
}

/**
 * Checks every flag in `own` against a command's declared args and returns the positional
 * words. citty lets unknown flags through and reads a value flag given last, or followed by
 * another flag, as empty (which a number reads as 0: `prune --keep-last` would keep nothing), so
 * an unknown flag, or a value flag without its value (unless its value hint is in brackets:
 * verify's `--read-data [SUBSET]`), is a usage error here. A short flag's value may be glued to
 * it (-kKEY); "-5" is a word, not a flag. A flag is not a value either: `prune --keep-tag -n`
 * would take -n for the tag and run for real, so a value that starts with - is written glued
 * (--keep-tag=-x, -k-x).
 */
export function positionals(own: string[], args: ArgsDef): string[] {
  const long = new Map<string, boolean>(); // name → needs a value
  const short = new Map<string, boolean>();
  const mayTakeValue = new Set<string>();
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    const optional = "valueHint" in def && typeof def.valueHint === "string" && def.valueHint.startsWith("[");
    const takesValue = def.type !== "boolean" && !optional;
    if (optional) mayTakeValue.add(name);
    long.set(name, takesValue);
    if (!takesValue) long.set(`no-${name}`, false);
    const aliases = "alias" in def && def.alias ? [def.alias].flat() : [];
    for (const a of aliases) (a.length === 1 ? short : long).set(a, takesValue);
  }
  long.set("help", false).set("version", false);
  short.set("h", false);
  const needsValue = (flag: string, next?: string) =>
    new CairnError("usage", next === undefined || next.startsWith("--")
      ? `${flag} needs a value (see --help)`
      : `${flag} needs a value, not the flag ${next} (a value that starts with - is written ${flag.startsWith("--") ? `${flag}=${next}` : `${flag}${next}`})`);
  const isFlag = (word: string | undefined) => word === undefined || (word.length > 1 && word.startsWith("-") && !/^-\d/.test(word));
  const out: string[] = [];
  for (let i = 0; i < own.length; i++) {
    const a = own[i];
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = a.slice(2, eq === -1 ? undefined : eq);
      const takesValue = long.get(name);
      if (takesValue === undefined) throw new CairnError("usage", `unknown flag --${name} (see --help)`);
      if (!takesValue) {
        // The tool tells an optional value from the next argument (verify --read-data 1/7 REPO):
        // the next word is taken for its value here, not counted as an argument.
        if (mayTakeValue.has(name) && eq === -1 && !isFlag(own[i + 1])) i++;
        continue;
      }
      if (eq !== -1) {
        if (eq === a.length - 1) throw needsValue(`--${name}`);
        continue;
      }
      const value = own[i + 1];
      if (isFlag(value)) throw needsValue(`--${name}`, value);
      i++;
    } else if (a.length > 1 && a.startsWith("-") && !/^-\d/.test(a)) {
      const letters = a.slice(1);
      for (let k = 0; k < letters.length; k++) {
        const c = letters[k];
        if (!short.has(c)) throw new CairnError("usage", `unknown flag -${c} (see --help)`);
        if (!short.get(c)) continue;
        // A value flag: the rest of the word is its value (-kwriter.key), else the next word is.
        if (k < letters.length - 1) break;
        const value = own[i + 1];
        if (isFlag(value)) throw needsValue(`-${c}`, value);
        i++;
      }
    } else {
      out.push(a);
    }
  }
  return out;
}

/** A repository URL, as opposed to a path to back up. */
export function isRepositoryUrl(arg: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(arg);
}

export function wholeNumber(text: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new CairnError("usage", `${flag} must be a whole number from ${min} to ${max}`);
  return n;
}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  mo: 30 * 86_400_000,
  y: 365 * 86_400_000,
};

/**
 * A duration flag's value in milliseconds, one syntax for every tool: numbers with units, summed
 * (`90s`, `1h30min`, `2w`, `6mo`, `1y`). Units: ms, s, min, h, d, w, mo (30 days), y (365 days).
 * A bare `m` is refused: prune read it as months and verify as minutes, and `--grace 30m` or
 * `--keep-within 6m` must not mean what the writer did not.
 */
export function parseDuration(text: string, flag: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|min|mo|s|h|d|w|y|m)/gy;
  let total = 0;
  let at = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    if (m[2] === "m") throw new CairnError("usage", `${flag}: "${text}": write min for minutes or mo for months (a bare m is ambiguous)`);
    total += Number(m[1]) * DURATION_UNITS[m[2]];
    at = re.lastIndex;
  }
  if (text === "" || at !== text.length) {
    throw new CairnError("usage", `${flag} needs a duration like 90s, 20min, 12h, 30d, 2w, 6mo, 1y or 1h30min, got ${JSON.stringify(text)}`);
  }
  return total;
}
