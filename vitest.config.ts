import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    // As the cairn launcher does (packages/cairn/bin/launch.js): V8's concurrent Sparkplug
    // compiler can deadlock a process's exit, which would hang the test process at its end.
    poolOptions: { forks: { execArgv: ["--no-concurrent-sparkplug"] } },
  },
});
