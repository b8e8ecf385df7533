/**
 * The cluster a command targets: `--kubeconfig`/`--context`, or the
 * kubeconfig an Infra instance recorded as its `kubeconfig` output
 * (`--instance`), as Core's command-line flags.
 */
import { join } from "node:path";
import { writeFileAtomic } from "@productive-k3s/pkg-format/atomic";
import { log } from "@productive-k3s/pkg-format/cli";
import { NotFoundError, StepFailedError, UsageError } from "@productive-k3s/pkg-format/errors";
import { assertValidName } from "@productive-k3s/pkg-format/names";
import { cacheDir, ensurePrivateDir } from "@productive-k3s/pkg-format/paths";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import { runRuntime } from "../delegate/delegate.js";
import { type ClusterTarget, describeTarget, formatTarget } from "../delegate/kubeconfig-target.js";
import { requireRuntime } from "../delegate/runtime-bin.js";

/** `profile outputs --instance i --json` → the kubeconfig path Infra recorded. */
export async function kubeconfigFromInstance(
  instance: string,
  infraBin: string | undefined,
): Promise<{ kubeconfig: string } | { exitCode: number }> {
  const infra = requireRuntime("infra", infraBin);
  const res = await runRuntime(infra, ["profile", "outputs", "--instance", instance, "--json"], { captureStdout: true });
  if (res.exitCode !== 0) return { exitCode: res.exitCode };
  let doc: unknown;
  try {
    doc = JSON.parse(res.stdout);
  } catch {
    throw new StepFailedError(`${infra.binName} profile outputs --instance ${instance} --json did not print JSON`, { where: infra.path });
  }
  const outputs =
    (doc as { outputs?: Record<string, unknown> } | null)?.outputs ??
    (doc as { result?: { outputs?: Record<string, unknown> } } | null)?.result?.outputs;
  const raw = outputs?.kubeconfig;
  const value =
    typeof raw === "string"
      ? raw
      : typeof raw === "object" && raw !== null && typeof (raw as { value?: unknown }).value === "string"
        ? (raw as { value: string }).value
        : undefined;
  if (value === undefined || value === "") {
    throw new NotFoundError(`instance "${instance}" has no kubeconfig output`, {
      hint: `check it with: ${infra.binName} profile status --instance ${instance}; the profile must output "kubeconfig"`,
    });
  }
  if (/^\*+$/.test(value)) {
    throw new StepFailedError(`instance "${instance}": its kubeconfig output is marked sensitive and was masked`, {
      hint: "make the profile output the kubeconfig's path (not its content), or pass --kubeconfig yourself",
    });
  }
  if (value.includes("\n")) {
    // The output is the kubeconfig itself: hand Core a private copy.
    const dir = await ensurePrivateDir(join(cacheDir(), "kubeconfigs"));
    const file = join(dir, `${instance}.yaml`);
    await writeFileAtomic(file, value, { mode: 0o600 });
    return { kubeconfig: file };
  }
  return { kubeconfig: value };
}

function clusterArgs(kubeconfig: string | undefined, context: string | undefined): string[] {
  return [...(kubeconfig === undefined ? [] : ["--kubeconfig", kubeconfig]), ...(context === undefined ? [] : ["--context", context])];
}

/** `--instance` and `--kubeconfig` both name a cluster: refused together, and the instance follows Infra's name rule. */
export function checkClusterFlags(input: { instance?: string | undefined; kubeconfig?: string | undefined }): void {
  if (input.instance !== undefined && input.kubeconfig !== undefined) {
    throw new UsageError("--instance and --kubeconfig both name a cluster; pass only one");
  }
  // The instance is handed to Infra and names a file under the cache: Infra's own rule, checked before anything runs.
  if (input.instance !== undefined) assertValidName("instance", input.instance, "--instance");
}

export interface ClusterFlags {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  instance?: string | undefined;
  infraBin?: string | undefined;
}

/** The kubeconfig to use (from `--instance` when given) and Core's flags for it; Infra's exit code when the instance has none. */
export async function clusterFor(flags: ClusterFlags): Promise<{ kubeconfig: string | undefined; args: string[] } | { exitCode: number }> {
  let kubeconfig = flags.kubeconfig;
  if (flags.instance !== undefined) {
    const fromInstance = await kubeconfigFromInstance(flags.instance, flags.infraBin);
    if ("exitCode" in fromInstance) return fromInstance;
    kubeconfig = fromInstance.kubeconfig;
  }
  return { kubeconfig, args: clusterArgs(kubeconfig, flags.context) };
}

/** The cluster Core will work on, announced on stderr as `Target cluster: …` (and the instance it came from). */
export async function announceTarget(kubeconfig: string | undefined, flags: ClusterFlags): Promise<ClusterTarget> {
  const target = await describeTarget(kubeconfig, flags.context);
  log(terminalLine(formatTarget(target) + (flags.instance === undefined ? "" : ` from instance ${flags.instance}`)));
  return target;
}
