/**
 * The published-style fixtures of fixtures/lifecycle-addons, and the stub
 * host they run against: stub dpkg/apt-get/systemctl/... first on PATH,
 * host files under a sandbox folder (PK3S_HOST_ROOT).
 */
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fixtures, type Sandbox } from "./harness.js";

export const lifecycleFixtures = join(fixtures, "lifecycle-addons");

export interface StubHost {
  env: Record<string, string>;
  root: string;
  hostsFile: string;
}

/** A host for the helpers: /etc/hosts with localhost, the host tool stubs first on PATH. */
export async function stubHost(sb: Sandbox): Promise<StubHost> {
  const root = join(sb.root, "host");
  await mkdir(join(root, "etc"), { recursive: true });
  const hostsFile = join(root, "etc/hosts");
  await writeFile(hostsFile, "127.0.0.1 localhost\n");
  return {
    root,
    hostsFile,
    env: {
      PATH: `${join(fixtures, "bin/host")}:${sb.env.PATH}`,
      STUB_HOST_STATE_DIR: join(sb.root, "host-state"),
      PK3S_HOST_ROOT: root,
    },
  };
}

/** Pack a lifecycle fixture, optionally as another version (a copy with metadata.version changed). */
export async function packFixture(sb: Sandbox, name: string, version?: string): Promise<string> {
  if (version === undefined) return sb.pack(join(lifecycleFixtures, name));
  const dir = join(sb.root, `src-${name}-${version}`);
  await cp(join(lifecycleFixtures, name), dir, { recursive: true });
  const manifest = join(dir, "addon.yaml");
  await writeFile(manifest, (await readFile(manifest, "utf8")).replace(/^ {2}version: .*$/m, `  version: ${version}`));
  return sb.pack(dir);
}

/** kubectl stub answers (STUB_KUBECTL_ANSWERS): the first entry whose args all appear in order answers a call. */
export async function kubectlAnswers(
  sb: Sandbox,
  answers: { args: string[]; stdout?: string; exitCode?: number }[],
): Promise<Record<string, string>> {
  const file = join(sb.root, `kubectl-answers-${Date.now()}-${Math.random().toString(16).slice(2)}.json`);
  await writeFile(file, JSON.stringify(answers));
  return { STUB_KUBECTL_ANSWERS: file };
}

/** The argv of the kubectl calls that phase functions made (the bound kubectl adds the run's target first). */
export function scriptKubectl(calls: { tool: string; argv: string[] }[], kubeconfig: string, context: string): string[][] {
  return calls
    .filter((c) => c.tool === "kubectl" && !c.argv.includes("--request-timeout"))
    .map((c) => {
      const bound = c.argv.slice(0, 4);
      if (bound.join(" ") !== `--kubeconfig ${kubeconfig} --context ${context}`)
        throw new Error(`unbound kubectl call: ${c.argv.join(" ")}`);
      return c.argv.slice(4);
    });
}
