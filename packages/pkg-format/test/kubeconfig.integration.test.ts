/**
 * host/kubeconfig picks the cluster kubectl picks (issue 13 item 5): every case is also run through the
 * real kubectl 1.35 (`kubectl config view --minify --raw -o json`, fixtures/real-tools.ts) on the same
 * files, and both must agree on context, cluster, server, user, auth kind and namespace, or both refuse.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { realTools } from "../../../fixtures/real-tools.js";
import { type KubeTarget, kubeconfigArgs, kubeconfigFiles, resolveKubeTarget } from "../src/host/kubeconfig.js";

const tools = await realTools();

// How often the `yaml` library parsed a kubeconfig: block-style files of plain names go to the line reader.
const calls = vi.hoisted(() => ({ parse: 0 }));
vi.mock("yaml", async (importOriginal) => {
  const yaml = await importOriginal<typeof import("yaml")>();
  return {
    ...yaml,
    parse: ((...args: Parameters<typeof yaml.parse>) => {
      calls.parse++;
      return yaml.parse(...args);
    }) as typeof yaml.parse,
  };
});

const FILES: Record<string, string> = {
  "a.yaml": `apiVersion: v1
kind: Config
clusters:
  - name: a
    cluster: {server: "https://a.example:6443", certificate-authority-data: ZmFrZQ==}
  - name: shared-cluster
    cluster: {server: "https://shared-from-a:6443"}
contexts:
  - name: a-ctx
    context: {cluster: a, user: a-user}
  - name: shared
    context: {cluster: shared-cluster, user: a-user, namespace: from-a}
current-context: a-ctx
users:
  - name: a-user
    user: {token: fixture-token-a}
`,
  "b.yaml": `apiVersion: v1
kind: Config
clusters:
  - name: a
    cluster: {server: "https://a-from-b:6443"}
  - name: b
    cluster: {server: "https://b.example:6443"}
contexts:
  - name: b-ctx
    context: {cluster: b, user: b-exec}
  - name: shared
    context: {cluster: b, user: b-exec}
  - name: cert
    context: {cluster: a, user: b-cert}
  - name: ghost-user
    context: {cluster: b, user: nobody}
current-context: b-ctx
users:
  - name: b-exec
    user:
      exec: {apiVersion: client.authentication.k8s.io/v1, command: get-token, args: ["--cluster", "b"]}
  - name: a-user
    user: {token: fixture-token-a-from-b}
  - name: b-cert
    user: {client-certificate-data: ZmFrZQ==, client-key-data: ZmFrZQ==}
`,
  // current-context names a context no file defines.
  "gone.yaml": `apiVersion: v1
kind: Config
current-context: gone
`,
  // No current-context at all.
  "none.yaml": `apiVersion: v1
kind: Config
clusters:
  - name: north
    cluster: {server: "https://north.example:6443"}
contexts:
  - name: n-ctx
    context: {cluster: north, user: n-user}
users:
  - name: n-user
    user: {tokenFile: /var/run/secrets/token}
`,
  // YAML 1.1, as client-go reads it: an unquoted `on` is a boolean, not a context name.
  "yaml11.yaml": `apiVersion: v1
kind: Config
clusters:
  - name: c
    cluster: {server: "https://c.example:6443"}
contexts:
  - name: on
    context: {cluster: c}
current-context: "on"
`,
  // Block style, as k3s writes it: read by the line reader (no `yaml` library).
  "block.yaml": `# written by k3s
apiVersion: v1
kind: Config
clusters:
  - name: default
    cluster:
      server: https://127.0.0.1:6443
      certificate-authority-data: ZmFrZS1jYQ==
contexts:
  - name: default
    context:
      cluster: default
      user: default
      namespace: kube-system
current-context: default
preferences: {}
users:
  - name: default
    user:
      client-certificate-data: ZmFrZQ==
      client-key-data: ZmFrZQ==
`,
  // Block style with YAML 1.1 booleans where names go: the line reader (YAML 1.2) would read names; client-go does not.
  "block11.yaml": `apiVersion: v1
kind: Config
clusters:
  - name: c
    cluster:
      server: https://c.example:6443
contexts:
  - name: on
    context:
      cluster: c
      user: n
current-context: on
users:
  - name: n
    user:
      token: t
`,
  // The same names quoted: strings in both YAML versions.
  "block11-quoted.yaml": `apiVersion: v1
kind: Config
clusters:
  - name: c
    cluster:
      server: https://c.example:6443
contexts:
  - name: "on"
    context:
      cluster: c
      user: "n"
current-context: "on"
users:
  - name: "n"
    user:
      token: 0123456789abcdef
`,
};

interface Case {
  name: string;
  kubeconfigEnv?: string;
  kubeconfig?: string;
  context?: string;
  /** kubectl refuses this one (so the comparison is never two refusals by accident). */
  refused?: true;
}

const CASES: Case[] = [
  { name: "one file by --kubeconfig", kubeconfig: "a.yaml" },
  { name: "KUBECONFIG a:b — the first file's current-context and definitions win", kubeconfigEnv: "a.yaml:b.yaml" },
  { name: "KUBECONFIG b:a — now b's, with an exec user", kubeconfigEnv: "b.yaml:a.yaml" },
  { name: "a context defined in both files, a first", kubeconfigEnv: "a.yaml:b.yaml", context: "shared" },
  { name: "a context defined in both files, b first", kubeconfigEnv: "b.yaml:a.yaml", context: "shared" },
  { name: "a context from the second file, a cluster name from the first", kubeconfigEnv: "a.yaml:b.yaml", context: "cert" },
  { name: "--context picks a context of the second file", kubeconfigEnv: "a.yaml:b.yaml", context: "b-ctx" },
  { name: "missing KUBECONFIG entries are skipped", kubeconfigEnv: "missing.yaml:b.yaml" },
  { name: "empty and repeated KUBECONFIG entries", kubeconfigEnv: ":b.yaml::b.yaml:a.yaml" },
  { name: "--kubeconfig wins over KUBECONFIG", kubeconfigEnv: "b.yaml", kubeconfig: "a.yaml" },
  { name: "the first current-context wins even when its context is missing", kubeconfigEnv: "gone.yaml:a.yaml", refused: true },
  { name: "a later file's missing current-context does not matter", kubeconfigEnv: "a.yaml:gone.yaml" },
  { name: "an unknown --context", kubeconfigEnv: "a.yaml:b.yaml", context: "nope", refused: true },
  { name: "no current-context and no --context", kubeconfigEnv: "none.yaml", refused: true },
  { name: "no current-context, --context given (token file user)", kubeconfigEnv: "none.yaml", context: "n-ctx" },
  { name: "YAML 1.1 booleans are not names", kubeconfigEnv: "yaml11.yaml", refused: true },
  { name: "every KUBECONFIG entry missing", kubeconfigEnv: "missing.yaml:also-missing.yaml", refused: true },
  { name: "block style as k3s writes it (client certificate, namespace, preferences: {})", kubeconfig: "block.yaml" },
  { name: "block style: YAML 1.1 booleans where names go are not names", kubeconfig: "block11.yaml", refused: true },
  { name: "block style: the same names quoted are names (and a token of digits)", kubeconfig: "block11-quoted.yaml" },
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pkg-kubeconfig-"));
  for (const [name, text] of Object.entries(FILES)) await writeFile(join(dir, name), text, { mode: 0o600 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const inDir = (list: string) =>
  list
    .split(":")
    .map((p) => (p === "" ? "" : join(dir, p)))
    .join(":");

function envOf(c: Case): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: dir, ...(c.kubeconfigEnv === undefined ? {} : { KUBECONFIG: inDir(c.kubeconfigEnv) }) };
}

async function ours(c: Case): Promise<KubeTarget | Error> {
  return resolveKubeTarget({ kubeconfig: c.kubeconfig && join(dir, c.kubeconfig), context: c.context }, envOf(c)).catch((e: Error) => e);
}

type Selected = Pick<KubeTarget, "context" | "cluster" | "server" | "user" | "auth" | "namespace">;

const AUTH_KEYS: [string, KubeTarget["auth"]][] = [
  ["exec", "exec"],
  ["auth-provider", "auth-provider"],
  ["token", "token"],
  ["tokenFile", "token-file"],
  ["client-certificate-data", "client-certificate"],
  ["client-certificate", "client-certificate"],
  ["username", "basic"],
];

/** What the real kubectl selects, in the same terms, or its error line. */
function kubectls(kubectl: string, c: Case): Selected | string {
  const args = ["config", "view", "--minify", "--raw", "-o", "json"];
  if (c.kubeconfig !== undefined) args.push("--kubeconfig", join(dir, c.kubeconfig));
  if (c.context !== undefined) args.push("--context", c.context);
  const r = spawnSync(kubectl, args, { env: envOf(c), encoding: "utf8", timeout: 30_000 });
  if (r.status !== 0) return r.stderr.trim();
  type Doc = {
    "current-context": string;
    contexts: { context: { cluster: string; user?: string; namespace?: string } }[];
    clusters: { name: string; cluster: { server: string } }[];
    users: { user: Record<string, unknown> }[] | null;
  };
  const doc = JSON.parse(r.stdout) as Doc;
  const ctx = doc.contexts[0]?.context;
  const user = doc.users?.[0]?.user ?? {};
  return {
    context: doc["current-context"],
    cluster: ctx?.cluster ?? "",
    server: doc.clusters[0]?.cluster.server ?? "",
    user: ctx?.user ?? "",
    auth: AUTH_KEYS.find(([k]) => user[k] !== undefined)?.[1] ?? "none",
    namespace: ctx?.namespace,
  };
}

describe.skipIf(!tools.ok)("kubeconfig selection agrees with the real kubectl", () => {
  const kubectl = tools.ok ? tools.kubectl : "";
  for (const c of CASES) {
    it(c.name, async () => {
      const mine = await ours(c);
      const theirs = kubectls(kubectl, c);
      expect(typeof theirs === "string", `kubectl: ${JSON.stringify(theirs)}`).toBe(c.refused === true);
      if (typeof theirs === "string") {
        expect(mine, `kubectl refused (${theirs}); so must we`).toBeInstanceOf(Error);
        return;
      }
      expect(mine).not.toBeInstanceOf(Error);
      const t = mine as KubeTarget;
      expect({ context: t.context, cluster: t.cluster, server: t.server, user: t.user, auth: t.auth, namespace: t.namespace }).toEqual(
        theirs,
      );
    });
  }

  it("a context whose user is not defined: kubectl --minify refuses, a real kubectl request goes without credentials; we select it with auth none", async () => {
    const c = { name: "ghost", kubeconfigEnv: "b.yaml", context: "ghost-user" };
    expect(kubectls(kubectl, c)).toBe("error: cannot locate user nobody");
    expect(await ours(c)).toMatchObject({ server: "https://b.example:6443", user: "nobody", auth: "none" });
  });
});

describe("which parser reads a kubeconfig", () => {
  beforeEach(() => {
    calls.parse = 0;
  });

  it("a block-style file of plain names (k3s's shape): the line reader, without the yaml library", async () => {
    const t = await ours({ name: "block", kubeconfig: "block.yaml" });
    expect(t).not.toBeInstanceOf(Error);
    expect((t as KubeTarget).server).toBe("https://127.0.0.1:6443");
    expect(calls.parse).toBe(0);
  });

  it("flow mappings, YAML 1.1 booleans, quoted or digit-led values: the yaml library in YAML 1.1 mode", async () => {
    for (const file of ["a.yaml", "block11.yaml", "block11-quoted.yaml"]) {
      calls.parse = 0;
      await ours({ name: file, kubeconfig: file });
      expect(calls.parse, file).toBe(1);
    }
  });
});

describe("what tools are handed", () => {
  it("one file goes as --kubeconfig; several KUBECONFIG files as the list, through the environment", async () => {
    const one = await resolveKubeTarget({}, envOf({ name: "", kubeconfigEnv: "missing.yaml:a.yaml" }));
    expect(one).toMatchObject({ kubeconfig: join(dir, "a.yaml"), files: [join(dir, "a.yaml")], kubeconfigSource: "KUBECONFIG" });
    expect(kubeconfigArgs(one.kubeconfig)).toEqual(["--kubeconfig", join(dir, "a.yaml")]);
    const two = await resolveKubeTarget({}, envOf({ name: "", kubeconfigEnv: "b.yaml:missing.yaml:a.yaml" }));
    expect(two.kubeconfig).toBe(`${join(dir, "b.yaml")}:${join(dir, "a.yaml")}`);
    expect(kubeconfigArgs(two.kubeconfig)).toEqual([]);
  });

  it("errors carry kubectl's meaning and our exit codes", async () => {
    await expect(resolveKubeTarget({ kubeconfig: join(dir, "missing.yaml") }, envOf({ name: "" }))).rejects.toMatchObject({ exitCode: 3 });
    await expect(resolveKubeTarget({}, envOf({ name: "", kubeconfigEnv: "missing.yaml" }))).rejects.toMatchObject({
      exitCode: 1,
      message: expect.stringContaining("no cluster to talk to"),
    });
    await expect(resolveKubeTarget({}, envOf({ name: "", kubeconfigEnv: "none.yaml" }))).rejects.toMatchObject({
      exitCode: 4,
      hint: "pass --context (one of: n-ctx)",
    });
    await expect(resolveKubeTarget({ context: "nope" }, envOf({ name: "", kubeconfigEnv: "a.yaml:b.yaml" }))).rejects.toMatchObject({
      exitCode: 3,
      hint: "available contexts: a-ctx, shared, b-ctx, cert, ghost-user",
    });
    await expect(resolveKubeTarget({ kubeconfig: "/tmp/a:b.yaml" })).rejects.toMatchObject({ exitCode: 2 });
  });

  it("the default file is ~/.kube/config", () => {
    expect(kubeconfigFiles({}, { HOME: "/home/u" })).toEqual({ files: ["/home/u/.kube/config"], source: "default" });
    expect(kubeconfigFiles({}, { HOME: "/home/u", KUBECONFIG: "" })).toEqual({ files: ["/home/u/.kube/config"], source: "default" });
  });
});
