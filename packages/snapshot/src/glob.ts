// gitignore-style patterns (https://git-scm.com/docs/gitignore, "PATTERN FORMAT"), used by
// `snapshot --exclude` and `snapshot -x --include`. A path is "/"-separated and relative.
//
//  - `*` matches anything but "/", `?` one character but "/", `[a-z]` / `[!a-z]` a class;
//    `\x` is a literal x.
//  - A pattern with no "/" except at its end matches a name at any depth (`*.log`);
//    otherwise it is anchored at the root (`/build`, `src/*.tmp`); a leading "/" is dropped.
//  - A trailing "/" matches directories only (`cache/`).
//  - `**/x` matches x at any depth, `x/**` everything inside x, `a/**/b` zero or more
//    directories between; any other `**` is a plain `*`.
//  - A leading "!" re-includes what an earlier pattern excluded; the last matching pattern wins.

export interface Pattern {
  source: string;
  negate: boolean;
  dirOnly: boolean;
  regex: RegExp;
}

export function compilePattern(source: string): Pattern {
  let p = source;
  let negate = false;
  if (p.startsWith("!")) {
    negate = true;
    p = p.slice(1);
  } else if (p.startsWith("\\!") || p.startsWith("\\#")) {
    p = p.slice(1);
  }
  let dirOnly = false;
  while (p.length > 1 && p.endsWith("/") && !p.endsWith("\\/")) {
    dirOnly = true;
    p = p.slice(0, -1);
  }
  const anchored = p.includes("/");
  if (p.startsWith("/")) p = p.slice(1);
  const body = translate(p);
  const regex = new RegExp(anchored ? `^${body}$` : `^(?:.*/)?${body}$`, "s");
  return { source, negate, dirOnly, regex };
}

function translate(p: string): string {
  let out = "";
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === "*") {
      if (p[i + 1] === "*" && (i === 0 || p[i - 1] === "/")) {
        if (p[i + 2] === "/") {
          out += "(?:.*/)?"; // "**/" — zero or more directories
          i += 2;
          continue;
        }
        if (i + 2 === p.length) {
          out += ".*"; // trailing "**" — everything inside
          i += 1;
          continue;
        }
      }
      while (p[i + 1] === "*") i++;
      out += "[^/]*";
    } else if (c === "?") {
      out += "[^/]";
    } else if (c === "[") {
      const cls = readClass(p, i);
      if (cls) {
        out += cls.regex;
        i = cls.end;
      } else {
        out += "\\[";
      }
    } else if (c === "\\" && i + 1 < p.length) {
      out += escape(p[++i]);
    } else {
      out += escape(c);
    }
  }
  return out;
}

/** `[...]` starting at p[start]: its regex and the index of its closing "]", or null if unclosed. */
function readClass(p: string, start: number): { regex: string; end: number } | null {
  let i = start + 1;
  let negated = false;
  if (p[i] === "!" || p[i] === "^") {
    negated = true;
    i++;
  }
  let body = "";
  let first = true;
  for (; i < p.length; i++) {
    const c = p[i];
    if (c === "]" && !first) return { regex: `(?!/)[${negated ? "^" : ""}${body}]`, end: i };
    first = false;
    if (c === "\\" && i + 1 < p.length) body += escapeInClass(p[++i]);
    else if (c === "-") body += "-";
    else body += escapeInClass(c);
  }
  return null;
}

function escape(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

function escapeInClass(c: string): string {
  return /[\]\\^-]/.test(c) ? `\\${c}` : c;
}

/** An ordered list of patterns; the last one that matches a path decides. */
export class PathFilter {
  private readonly patterns: Pattern[];

  constructor(sources: readonly string[]) {
    this.patterns = sources.filter((s) => s !== "" && !s.startsWith("#")).map(compilePattern);
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /** True if the last pattern matching `path` is not a negation. */
  matches(path: string, isDir: boolean): boolean {
    let hit = false;
    for (const pat of this.patterns) {
      if (pat.dirOnly && !isDir) continue;
      if (pat.regex.test(path)) hit = !pat.negate;
    }
    return hit;
  }

  /** True if `path` or one of its parent directories matches: what `--include` restores. */
  matchesWithin(path: string, isDir: boolean): boolean {
    if (this.matches(path, isDir)) return true;
    for (let i = path.lastIndexOf("/"); i > 0; i = path.lastIndexOf("/", i - 1)) {
      if (this.matches(path.slice(0, i), true)) return true;
    }
    return false;
  }
}
