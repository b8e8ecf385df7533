import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

// Three projects (CONTRIBUTING.md says how long each takes):
//   unit         packages/*/test/**/*.test.ts: the code in-process, no build needed (pkg-format is
//                read from its sources below), seconds. The inner loop: `pnpm test:unit`.
//   integration  packages/*/test/**/*.integration.test.ts: the built CLIs (`pnpm build` first) as
//                subprocesses, with the stubs and real tools of DESIGN §7.
//   e2e          e2e/**/*.test.ts: the packages as users get them (journeys, npm install -g, JSON
//                output); against a real cluster when PK3S_E2E_KUBECONFIG/PK3S_E2E_TOFU are set.

/** `@productive-k3s/pkg-format/<entry>` → its source file, from the package's own exports map. */
function pkgFormatSources(): { find: RegExp; replacement: string }[] {
  const dir = join(import.meta.dirname, "packages", "pkg-format");
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { exports: Record<string, unknown> };
  return Object.entries(manifest.exports).flatMap(([entry, target]) => {
    const built = typeof target === "object" && target !== null ? (target as { default?: unknown }).default : undefined;
    if (typeof built !== "string" || !built.startsWith("./dist/")) return [];
    const name = entry === "." ? "" : entry.slice(1);
    const escaped = `@productive-k3s/pkg-format${name}`.replace(/[/.-]/g, "\\$&");
    return [{ find: new RegExp(`^${escaped}$`), replacement: join(dir, built.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts")) }];
  });
}

export default defineConfig({
  test: {
    // At least two test files at once, also on a 2-core machine: the integration and e2e tests mostly wait on the
    // processes and servers they start (one worker left the CPU ~60% idle). Measured on the 2-core CI machine:
    // the whole suite took 620 s with vitest's default of one worker there, 290 s with two.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      {
        resolve: { alias: pkgFormatSources() },
        test: {
          name: "unit",
          include: ["packages/*/test/**/*.test.ts"],
          exclude: ["**/*.integration.test.ts", "**/node_modules/**"],
          pool: "forks",
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["packages/*/test/**/*.integration.test.ts"],
          pool: "forks",
          // Several real ansible-playbook runs in one test take ~12 s on an idle 2-core machine and went
          // past 30 s with the machine at load 15: a limit for hangs, not a performance budget.
          testTimeout: 90_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["e2e/**/*.test.ts"],
          pool: "forks",
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
