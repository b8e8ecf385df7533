/**
 * Running the real helm (v4, fixtures/real-tools.ts) without a cluster: a kubeconfig whose server
 * refuses connections (https://127.0.0.1:1), a tiny chart, and Helm's own memory storage driver
 * (`HELM_DRIVER=memory` + `HELM_MEMORY_DRIVER_DATA=<releases file>`: Helm loads the releases and uses a
 * fake kube client), so `status`, `list`, `history`, `rollback` and `uninstall` answer for real.
 */
import { spawnSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** The accepted failure of a helm call against the unreachable cluster: the connection, nothing else. */
export const CONNECTION_REFUSED =
  /^Error: (?:[A-Z ]+FAILED: )?(?:kubernetes cluster unreachable: |could not get server version from Kubernetes: )Get "https:\/\/127\.0\.0\.1:1\/version(?:\?timeout=\d+s)?": dial tcp 127\.0\.0\.1:1: connect: connection refused$/;

export interface HelmRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runHelm(helm: string, args: string[], options: { cwd: string; env?: Record<string, string> }): HelmRun {
  const r = spawnSync(helm, args, {
    cwd: options.cwd,
    encoding: "utf8",
    timeout: 60_000,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: options.cwd, ...options.env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A kubeconfig with two contexts, both on a server that refuses connections. */
export async function unreachableKubeconfig(dir: string): Promise<string> {
  const file = join(dir, "unreachable.kubeconfig");
  await writeFile(
    file,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "  - name: nowhere",
      "    cluster: {server: 'https://127.0.0.1:1'}",
      "contexts:",
      "  - name: lab",
      "    context: {cluster: nowhere, user: admin}",
      "  - name: edge",
      "    context: {cluster: nowhere, user: admin, namespace: edge-system}",
      "current-context: lab",
      "users:",
      "  - name: admin",
      "    user: {token: fixture-token-not-a-secret}",
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  return file;
}

/** A chart without hooks or NOTES (so the JSON has no optional parts) at <dir>/charts/demo, plus values files. */
export async function demoChart(dir: string): Promise<{ chart: string; values: string[] }> {
  const chart = join(dir, "charts", "demo");
  await mkdir(join(chart, "templates"), { recursive: true });
  await writeFile(join(chart, "Chart.yaml"), "apiVersion: v2\nname: demo\nversion: 0.1.0\nappVersion: '1.2.3'\n");
  await writeFile(join(chart, "values.yaml"), "greeting: hello\n");
  await writeFile(
    join(chart, "templates", "configmap.yaml"),
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-demo\ndata:\n  greeting: {{ .Values.greeting | quote }}\n",
  );
  const values = [join(dir, "values.yaml"), join(dir, "user values.yaml")];
  await writeFile(values[0] ?? "", "greeting: from-package\n");
  await writeFile(values[1] ?? "", "greeting: from-user\n");
  return { chart, values };
}

/**
 * A release as the real helm itself stores it (from `helm install --dry-run=client -o json`), saved as
 * memory-driver data with the given status and revision. Returns the env that makes helm load it.
 */
export async function memoryRelease(
  helm: string,
  dir: string,
  release: { name: string; namespace: string; status: string; revision: number; kubeconfig: string },
): Promise<Record<string, string>> {
  const r = runHelm(
    helm,
    ["install", release.name, "./charts/demo", "--namespace", release.namespace, "--dry-run=client", "-o", "json", "--set", "greeting=hi"],
    { cwd: dir, env: { KUBECONFIG: release.kubeconfig } },
  );
  if (r.code !== 0) throw new Error(`helm install --dry-run=client failed (${r.code}): ${r.stderr}`);
  const doc = JSON.parse(r.stdout) as { info: Record<string, unknown>; version: number };
  const history = [];
  for (let revision = 1; revision <= release.revision; revision++) {
    const last = revision === release.revision;
    history.push({
      ...doc,
      version: revision,
      info: { ...doc.info, status: last ? release.status : "superseded", description: last ? "Upgrade complete" : "Install complete" },
    });
  }
  const file = join(dir, `${release.name}-releases.json`);
  await writeFile(file, JSON.stringify(history));
  return { HELM_DRIVER: "memory", HELM_MEMORY_DRIVER_DATA: file };
}
