/**
 * Charts made by the REAL helm (`helm create`, `helm package`) for the chart tests, with helm's own
 * folders kept inside the sandbox (no test reads or writes the user's ~/.cache/helm or registry logins).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { realTools } from "../../../../fixtures/real-tools.js";

export const tools = await realTools();
/** The real helm, or "" when this platform has none (the suites skip then). */
export const realHelm = tools.ok ? tools.helm : "";

/** helm's folders under `root`, and PK3S_HELM_BIN pointing at the real helm. */
export function realHelmEnv(root: string): Record<string, string> {
  return {
    PK3S_HELM_BIN: realHelm,
    HELM_CACHE_HOME: join(root, "helm", "cache"),
    HELM_CONFIG_HOME: join(root, "helm", "config"),
    HELM_DATA_HOME: join(root, "helm", "data"),
  };
}

/** Run the real helm (throws with its stderr on failure). */
export function helm(root: string, args: string[], cwd = root): string {
  return execFileSync(realHelm, args, {
    cwd,
    env: { ...process.env, ...realHelmEnv(root) },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 60_000,
  });
}

export interface SourceOptions {
  /** spec.chart as YAML lines (indented under `chart:`). */
  chart: string;
  /** Extra files of the source (path → content). */
  files?: Record<string, string>;
  name?: string;
}

/** An add-on source directory: addon.yaml (with a comment that packing must keep) and the given files. */
export async function writeSource(dir: string, options: SourceOptions): Promise<string> {
  await mkdir(dir, { recursive: true });
  const manifest = [
    "apiVersion: addons.productive-k3s.io/v1",
    "kind: Addon",
    "metadata:",
    `  name: ${options.name ?? "web"}`,
    "  version: 1.0.0",
    "  category: test",
    "spec:",
    "  type: helm",
    "  # the chart this add-on installs",
    "  chart:",
    options.chart,
    "",
  ].join("\n");
  await writeFile(join(dir, "addon.yaml"), manifest);
  for (const [rel, content] of Object.entries(options.files ?? {})) {
    await mkdir(join(dir, rel, ".."), { recursive: true });
    await writeFile(join(dir, rel), content);
  }
  return dir;
}

/** `helm create <name>` into `<dir>/charts/<name>` (a real chart: Deployment, Service, ServiceAccount, ...). */
export function helmCreate(root: string, dir: string, name: string): string {
  const charts = join(dir, "charts");
  mkdirSync(charts, { recursive: true });
  helm(root, ["create", name], charts);
  return join(charts, name);
}
