// Durations on the command line: one syntax for every tool (@cairn/errors parseDuration): `30d`,
// `1h30min`, `2y6mo`, `90s`. --keep-within uses calendar-free spans on purpose: a span is a length
// of time, the buckets (daily, monthly, …) are the calendar rules.
export { parseDuration } from "@cairn/errors";
