import { defineConfig } from "vitest/config";

// Unit and integration tests run against the built binaries (`pnpm build`
// first; `.ci/run` does that). `e2e` is the opt-in suite of issue #6: it runs
// with the stubs from fixtures/bin unless PK3S_E2E_KUBECONFIG/PK3S_E2E_TOFU say otherwise.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["packages/*/test/**/*.test.ts"],
          pool: "forks",
          testTimeout: 30_000,
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
