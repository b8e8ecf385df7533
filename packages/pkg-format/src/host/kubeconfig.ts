/**
 * Which cluster a command targets, chosen exactly as kubectl chooses it (client-go's loading rules), so
 * Core, pk3s and kubectl/helm always agree on the server, context and user:
 *
 * - files: `--kubeconfig FILE` alone (it must exist); else every path of `KUBECONFIG` in order (empty
 *   entries and repeats dropped, missing files skipped); else `~/.kube/config`.
 * - merge: the first file that defines a cluster, context or user name wins that name; the first file
 *   that sets `current-context` wins it.
 * - context: `--context`, else `current-context`; its cluster gives the server URL, its user the
 *   credentials (a token, an exec plugin, client certificates...).
 *
 * YAML is read as YAML 1.1, as client-go does (`y`, `no`, `on` are booleans there, not names).
 * Checked against `kubectl config view --minify --raw -o json` in core/test/kubeconfig-real.test.ts.
 */
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { z } from "zod";
import { NotFoundError, StepFailedError, UsageError, ValidationError } from "../errors.js";
import { isMapping, parseSimpleYaml, UNSUPPORTED } from "../format/yaml-lines.js";

export interface KubeOptions {
  kubeconfig?: string | undefined;
  context?: string | undefined;
}

export type KubeconfigSource = "--kubeconfig" | "KUBECONFIG" | "default";

/** How the user's credentials are given (the kind only: the credentials themselves never leave here). */
export type KubeAuth = "token" | "token-file" | "exec" | "client-certificate" | "basic" | "auth-provider" | "none";

export interface KubeTarget {
  /**
   * The kubeconfig for tools and scripts: one file, or (several KUBECONFIG files) the list joined with the
   * path delimiter, as `KUBECONFIG` takes it. Pass it with {@link kubeconfigArgs}.
   */
  kubeconfig: string;
  /** The files read, in merge order (missing KUBECONFIG entries left out). */
  files: string[];
  /** How the files were chosen, for messages. */
  kubeconfigSource: KubeconfigSource;
  context: string;
  /** The context's cluster name and its API server URL (the cluster's identity). */
  cluster: string;
  server: string;
  /** The context's user name; "" when the context names none. */
  user: string;
  auth: KubeAuth;
  /** The context's default namespace, when it sets one. */
  namespace?: string | undefined;
}

const ClusterEntry = z
  .object({ name: z.string(), cluster: z.object({ server: z.string().nullish() }).passthrough().nullish() })
  .passthrough();
const ContextEntry = z
  .object({
    name: z.string(),
    context: z
      .object({ cluster: z.string().nullish(), user: z.string().nullish(), namespace: z.string().nullish() })
      .passthrough()
      .nullish(),
  })
  .passthrough();
const UserEntry = z.object({ name: z.string(), user: z.record(z.string(), z.unknown()).nullish() }).passthrough();
const KubeconfigSchema = z
  .object({
    clusters: z.array(ClusterEntry).nullish(),
    contexts: z.array(ContextEntry).nullish(),
    users: z.array(UserEntry).nullish(),
    "current-context": z.string().nullish(),
  })
  .passthrough();
type KubeconfigDoc = z.infer<typeof KubeconfigSchema>;

/** The files kubectl would read, and where that choice came from. */
export function kubeconfigFiles(options: KubeOptions, env: NodeJS.ProcessEnv = process.env): { files: string[]; source: KubeconfigSource } {
  if (options.kubeconfig !== undefined && options.kubeconfig !== "")
    return { files: [resolve(options.kubeconfig)], source: "--kubeconfig" };
  const list = (env.KUBECONFIG ?? "").split(delimiter).filter((p) => p !== "");
  if (list.length > 0) return { files: [...new Set(list.map((p) => resolve(p)))], source: "KUBECONFIG" };
  return { files: [join(env.HOME ?? homedir(), ".kube", "config")], source: "default" };
}

/** `--kubeconfig FILE` for a single file; nothing for a KUBECONFIG list (the tool reads the same list from the environment). */
export function kubeconfigArgs(kubeconfig: string): string[] {
  return kubeconfig.includes(delimiter) ? [] : ["--kubeconfig", kubeconfig];
}

function describeFiles(files: string[], source: KubeconfigSource): string {
  if (source === "--kubeconfig") return `${files[0]} (from --kubeconfig)`;
  if (source === "KUBECONFIG") return `${files.join(delimiter)} (from KUBECONFIG)`;
  return `${files[0]} (default; set KUBECONFIG or pass --kubeconfig)`;
}

/**
 * Plain scalars YAML 1.1 reads as something other than the string YAML 1.2 reads (booleans such as `yes`, `on`,
 * `n`; numbers with `_`, `0b`, a leading 0 or `:`; floats, timestamps; `=` and the `<<` merge key), and anything
 * starting with a digit, a sign or a dot, to be safe.
 */
const YAML11_NOT_A_STRING = /^(?:[yYnN]|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|=|<<)$|^[-+.0-9]/;

function sameInYaml11(value: unknown): boolean {
  if (typeof value === "string") return !YAML11_NOT_A_STRING.test(value);
  if (Array.isArray(value)) return value.every(sameInYaml11);
  if (isMapping(value)) return Object.entries(value).every(([k, v]) => !YAML11_NOT_A_STRING.test(k) && sameInYaml11(v));
  return true; // null, booleans (true/false: the same in both), numbers (the line reader's plain integers)
}

/**
 * The usual kubeconfig (block mappings and sequences of names, URLs and base64) read by pkg-format's line reader
 * instead of the `yaml` library, whose load and first parse cost ~20 ms of every command that targets a cluster.
 * Only when every string reads the same in YAML 1.1 (what client-go reads) as in 1.2 (the line reader), judging by
 * the text of each value: a quoted `"yes"` is declined too. Anything else, and any text outside the reader's
 * subset, goes to the library in YAML 1.1 mode, as before.
 */
function simpleKubeconfig(text: string): unknown {
  const doc = parseSimpleYaml(text.split("\n"));
  return doc !== UNSUPPORTED && sameInYaml11(doc) ? doc : UNSUPPORTED;
}

async function readKubeconfig(file: string): Promise<KubeconfigDoc | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new StepFailedError(`cannot read kubeconfig ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { where: file });
  }
  let doc = simpleKubeconfig(text);
  if (doc === UNSUPPORTED)
    try {
      const { parseYamlLibrary } = await import("../format/yaml-library.js");
      doc = parseYamlLibrary(text, { version: "1.1" });
    } catch (err) {
      throw new ValidationError(`kubeconfig ${file} is not valid YAML`, [
        { file, message: err instanceof Error ? err.message : String(err), severity: "error" },
      ]);
    }
  const parsed = KubeconfigSchema.safeParse(doc ?? {});
  if (!parsed.success) {
    throw new ValidationError(
      `kubeconfig ${file} is not a valid kubeconfig`,
      parsed.error.issues.map((i) => ({ file, path: i.path.join("."), message: i.message, severity: "error" as const })),
    );
  }
  return parsed.data;
}

function authOf(user: Record<string, unknown> | undefined): KubeAuth {
  if (user === undefined) return "none";
  if (user.exec != null) return "exec";
  if (user["auth-provider"] != null) return "auth-provider";
  if (user.token != null) return "token";
  if (user.tokenFile != null) return "token-file";
  if (user["client-certificate"] != null || user["client-certificate-data"] != null) return "client-certificate";
  if (user.username != null) return "basic";
  return "none";
}

/**
 * Resolve the target cluster. A missing `--kubeconfig` file is "not found" (exit 3); no kubeconfig at all
 * means no cluster to talk to (exit 1); an unknown context is "not found" (exit 3); no context, or a
 * context without a usable cluster, is a validation error (exit 4). kubectl would fall back to
 * localhost:8080 in the last cases; we say what is wrong instead.
 */
export async function resolveKubeTarget(options: KubeOptions, env: NodeJS.ProcessEnv = process.env): Promise<KubeTarget> {
  const { files, source } = kubeconfigFiles(options, env);
  if (source === "--kubeconfig" && (files[0] ?? "").includes(delimiter)) {
    throw new UsageError(`--kubeconfig ${files[0]}: a kubeconfig path cannot contain "${delimiter}" (the KUBECONFIG list separator)`, {
      where: "--kubeconfig",
    });
  }
  const read: string[] = [];
  const clusters = new Map<string, z.infer<typeof ClusterEntry>>();
  const contexts = new Map<string, z.infer<typeof ContextEntry>>();
  const users = new Map<string, z.infer<typeof UserEntry>>();
  let current = "";
  for (const file of files) {
    const doc = await readKubeconfig(file);
    if (doc === undefined) continue;
    read.push(file);
    for (const c of doc.clusters ?? []) if (!clusters.has(c.name)) clusters.set(c.name, c);
    for (const c of doc.contexts ?? []) if (!contexts.has(c.name)) contexts.set(c.name, c);
    for (const u of doc.users ?? []) if (!users.has(u.name)) users.set(u.name, u);
    if (current === "" && typeof doc["current-context"] === "string") current = doc["current-context"];
  }
  const where = describeFiles(files, source);
  if (read.length === 0) {
    const message = `cannot read kubeconfig ${where}: no such file`;
    const hint = "point --kubeconfig (or KUBECONFIG) at the cluster's kubeconfig, e.g. /etc/rancher/k3s/k3s.yaml on a k3s server";
    if (source === "--kubeconfig") throw new NotFoundError(message, { where: files[0], hint });
    throw new StepFailedError(`no cluster to talk to: ${message}`, { where: files.join(delimiter), hint });
  }
  const shown = read.join(delimiter);
  const names = [...contexts.keys()].join(", ");
  const contextName = options.context !== undefined && options.context !== "" ? options.context : current;
  if (contextName === "") {
    throw new ValidationError(`kubeconfig ${shown} has no current-context`, [], {
      where: shown,
      hint: `pass --context (one of: ${names || "none defined"})`,
    });
  }
  const entry = contexts.get(contextName);
  if (entry === undefined) {
    throw new NotFoundError(`context "${contextName}" not found in kubeconfig ${shown}`, {
      where: shown,
      hint: `available contexts: ${names || "none"}`,
    });
  }
  const context = entry.context ?? {};
  const clusterName = context.cluster ?? "";
  const server = clusters.get(clusterName)?.cluster?.server ?? "";
  if (!clusters.has(clusterName)) {
    throw new ValidationError(`context "${contextName}" in ${shown} refers to cluster "${clusterName}", which is not defined`, [], {
      where: shown,
    });
  }
  if (server === "") {
    throw new ValidationError(`cluster "${clusterName}" (context "${contextName}") in ${shown} has no server URL`, [], { where: shown });
  }
  const user = context.user ?? "";
  return {
    kubeconfig: source === "KUBECONFIG" ? shown : (files[0] ?? shown),
    files: read,
    kubeconfigSource: source,
    context: contextName,
    cluster: clusterName,
    server,
    user,
    auth: authOf(users.get(user)?.user ?? undefined),
    ...(context.namespace == null || context.namespace === "" ? {} : { namespace: context.namespace }),
  };
}

/** "cluster <server> (kubeconfig <files>, context <ctx>)" for messages. */
export function describeTarget(target: Pick<KubeTarget, "kubeconfig" | "context" | "server">): string {
  return `cluster ${target.server} (kubeconfig ${target.kubeconfig}, context ${target.context})`;
}
