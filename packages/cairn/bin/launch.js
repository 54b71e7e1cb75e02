// Plain JavaScript on purpose: it must run on an old Node long enough to say that it is too old.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 15)) {
  process.stderr.write(`cairn: requires Node.js >= 22.15 (native zstd); this is ${process.version}. Run it through npm (npx cairn …) or install Node 22.15+.\n`);
  process.exit(2);
}

export async function launch(tool) {
  const { main } = await import("../dist/main.js");
  await main(tool, process.argv.slice(2));
}
