export { exitCodes, type ErrorKind } from "./codes.js";
export { CairnError, printable, toCairnError } from "./error.js";
export { runTool, reportError, writeOut, MIN_NODE } from "./run.js";
export { splitDashDash, repeated, positionals, isRepositoryUrl, wholeNumber, parseDuration } from "./args.js";
export { makeDirs } from "./dirs.js";
