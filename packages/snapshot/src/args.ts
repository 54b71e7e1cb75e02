import { CairnError } from "@cairn/errors";

/** The arguments before a "--", and the ones after it (a command to run). */
export function splitDashDash(rawArgs: string[]): { own: string[]; command: string[] } {
  const i = rawArgs.indexOf("--");
  return i === -1 ? { own: rawArgs, command: [] } : { own: rawArgs.slice(0, i), command: rawArgs.slice(i + 1) };
}

/** Every value of a repeatable flag (`--tag a --tag b`, `--tag=a`), in order. */
export function repeated(own: string[], flag: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < own.length; i++) {
    const a = own[i];
    if (a === `--${flag}`) {
      if (i + 1 >= own.length) throw new CairnError("usage", `--${flag} needs a value (see --help)`);
      out.push(own[++i]);
    } else if (a.startsWith(`--${flag}=`)) {
      out.push(a.slice(flag.length + 3));
    }
  }
  return out;
}

/** Rejects flags the command does not declare (citty lets them through silently). */
export function checkFlags(own: string[], known: { long: string[]; short: string[]; withValue: string[] }): void {
  for (let i = 0; i < own.length; i++) {
    const a = own[i];
    if (a.startsWith("--")) {
      const name = a.slice(2).split("=")[0];
      if (!known.long.includes(name)) throw new CairnError("usage", `unknown flag --${name} (see --help)`);
      if (known.withValue.includes(name) && !a.includes("=")) i++;
    } else if (a.startsWith("-") && a.length > 1) {
      for (const c of a.slice(1)) if (!known.short.includes(c)) throw new CairnError("usage", `unknown flag -${c} (see --help)`);
    }
  }
}
