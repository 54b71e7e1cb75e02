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
    // Two test files at once: most tests wait on child processes, RGW or the disk, so on these
    // 2-core machines two forks finish the suite in 395 s of vitest time against 533 with the
    // default one (fresh-clone .ci/run, 2026-11-27: 7 min 22 s in all; every test passed).
    poolOptions: { forks: { execArgv: ["--no-concurrent-sparkplug"], maxForks: 2, minForks: 1 } },
  },
});
