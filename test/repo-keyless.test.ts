// The security model in the import graph: push, prune, forget, ls and the keyless parts of pull,
// verify and repair load no key or encryption code (@cairn/keys, @cairn/age, @cairn/seal), so a
// transport host holds none.
import { describe, expect, it } from "vitest";
import { shA } from "./helpers/async-cli.js";

async function loadedModules(entry: string): Promise<string[]> {
  const script = `
    const { registerHooks } = await import("node:module");
    const seen = [];
    registerHooks({ resolve(spec, ctx, next) { const r = next(spec, ctx); seen.push(r.url); return r; } });
    await import(${JSON.stringify(entry)});
    console.log(JSON.stringify(seen));
  `;
  const r = await shA(`node --input-type=module -e '${script.replace(/'/g, "'\\''")}'`, { cwd: process.cwd() });
  expect(r.stderr).toBe("");
  return JSON.parse(r.stdout.toString());
}

describe("keyless tools", () => {
  for (const entry of ["@cairn/push/cli", "@cairn/pull/cli", "@cairn/ls/cli", "@cairn/repository", "@cairn/verify/cli", "@cairn/repair/cli", "@cairn/prune/cli", "@cairn/forget/cli"]) {
    it(`${entry} loads no key or encryption code`, async () => {
      const urls = await loadedModules(entry);
      expect(urls.some((u) => u.includes("/packages/repository/"))).toBe(true);
      expect(urls.filter((u) => /\/packages\/(keys|age|seal)\/|age-encryption/.test(u))).toEqual([]);
    });
  }

  it("the check sees key code where it is loaded (init makes keys)", async () => {
    const urls = await loadedModules("@cairn/init/cli");
    expect(urls.some((u) => /\/packages\/keys\//.test(u))).toBe(true);
  });

  it("pull loads the keyed module only for -i", async () => {
    const urls = await loadedModules("@cairn/pull/cli");
    expect(urls.some((u) => u.endsWith("/ordered.js"))).toBe(false);
  });
});
