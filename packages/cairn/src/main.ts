import { CairnError, reportError, runTool, writeOut } from "@cairn/errors";
import { STORAGE_ARGS, takeStorageFlags } from "./storage-flags.js";
import { tools } from "./tools.js";

export const VERSION = "0.1.0";

function usage(): string {
  const width = Math.max(...Object.keys(tools).map((n) => n.length));
  const lines = Object.entries(tools).map(([name, t]) => `  ${name.padEnd(width)}  ${t.summary}`);
  return `cairn ${VERSION}: backups as Unix pipelines\n\nUsage: cairn TOOL [ARGS…]   (or cairn-TOOL [ARGS…])\n\nTools:\n${lines.join("\n")}\n\ncairn TOOL --help shows a tool's flags.\n`;
}

/**
 * The dispatcher's own output, then exit `code`: output that cannot be written is 19, as for every
 * tool (docs/exit-codes.md), never a silent 0; a reader that went away (`| head`) is no failure.
 */
async function printAndExit(text: string, code: number): Promise<never> {
  process.stdout.on("error", () => {}); // writeOut's callback gets the error; unheard, it would crash
  try {
    await writeOut(text);
  } catch (err) {
    if (!/broken pipe/.test((err as Error).message)) process.exit(reportError("cairn", err));
  }
  process.exit(code);
}

/** Runs `cairn TOOL args` (tool from argv) or `cairn-TOOL args` (tool fixed by the bin). */
export async function main(fixedTool: string | undefined, argv: string[]): Promise<void> {
  let name = fixedTool;
  let args = argv;
  if (!name) {
    const first = argv[0];
    if (first === undefined || first === "--help" || first === "-h" || first === "help") return printAndExit(usage(), first === undefined ? 2 : 0);
    if (first === "--version") return printAndExit(`${VERSION}\n`, 0);
    name = first;
    args = argv.slice(1);
  }
  const tool = tools[name];
  if (!tool) {
    process.exit(reportError("cairn", new CairnError("usage", `unknown tool "${name}" (cairn --help lists them)`)));
  }
  let command;
  try {
    const spec = `${tool.pkg}/cli`;
    command = (await import(spec)).default;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" && String((err as Error).message).includes(tool.pkg)) {
      process.exit(reportError(`cairn-${name}`, new CairnError("usage", `tool "${name}" is not built in this version`)));
    }
    throw err;
  }
  // `storage` names the subcommand that opens repositories (key recover), or is true for the whole tool.
  if (tool.storage === true || (tool.storage && args[0] === tool.storage)) {
    try {
      args = takeStorageFlags(args);
    } catch (err) {
      process.exit(reportError(`cairn-${name}`, err));
    }
    // Listed in the tool's --help with its own flags.
    const target = tool.storage === true ? command : command.subCommands?.[tool.storage];
    if (target && typeof target.args === "object") target.args = { ...target.args, ...STORAGE_ARGS };
  }
  await runTool(`cairn-${name}`, command, args, { variadic: tool.variadic });
}
