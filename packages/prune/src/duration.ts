// Durations on the command line: `30d`, `1h30m`, `2y6m`, `90s`. Units: s, h, d, w, m (months of
// 30 days), y (365 days), and "min" for minutes. --keep-within uses calendar-free spans on purpose:
// a span is a length of time, the buckets (daily, monthly, …) are the calendar rules.
import { CairnError } from "@cairn/errors";

const UNIT_MS: Record<string, number> = {
  s: 1000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  m: 30 * 86_400_000,
  y: 365 * 86_400_000,
};

export function parseDuration(text: string, flag: string): number {
  const re = /(\d+(?:\.\d+)?)(min|s|h|d|w|m|y)/gy;
  let total = 0;
  let at = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    total += Number(m[1]) * UNIT_MS[m[2]];
    at = re.lastIndex;
  }
  if (text === "" || at !== text.length) {
    throw new CairnError("usage", `${flag} needs a duration like 30d, 12h, 2w, 6m, 1y or 1h30min, got ${JSON.stringify(text)}`);
  }
  return total;
}
