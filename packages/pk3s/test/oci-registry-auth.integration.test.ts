/**
 * pk3s and a REAL OCI registry (Debian docker-registry, distribution 2.8) that asks for credentials:
 * - htpasswd basic auth behind TLS from an openssl-made CA: `pk3s registry login`, the 0600 login file in
 *   docker's format (skopeo reads it with --authfile), the user's own ~/.docker/config.json, logout;
 * - token auth through the in-process token server: the bearer flow against the registry's own checks,
 *   anonymous pulls of a public repository, tokens asked once per scope, revoked access;
 * and, for both, that the password appears nowhere but in the login file: not in output, errors, other
 * files, nor the argv of the runtime pk3s starts.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OciRegistry, ociRegistryAvailable, startOciRegistry } from "../../../fixtures/oci-registry.js";
import { type RunResult, type Sandbox, sandbox } from "./helpers/cli.js";
import { type PackedAddon, packAddon, pk3sWithStdin, sha256, skopeoAvailable, skopeoRaw } from "./helpers/oci.js";
import { readStubLog, stubRuntimes } from "./helpers/stub-runtime.js";

const available = ociRegistryAvailable();
const skopeo = skopeoAvailable();
const ready = available.ok && skopeo;

const PASSWORD = "pk3s-Secr3t-pw-7f3a9c";
const USER = "ci";

/** Every file under `root` whose bytes hold the password, plain or as docker's base64 `user:password`. */
function filesHoldingSecret(root: string): string[] {
  const needles = [PASSWORD, Buffer.from(`${USER}:${PASSWORD}`).toString("base64")];
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) {
        const text = readFileSync(path).toString("latin1");
        if (needles.some((n) => text.includes(n))) found.push(path);
      }
    }
  };
  walk(root);
  return found.sort();
}

function expectNoSecret(...results: RunResult[]): void {
  for (const r of results) {
    expect(r.stdout).not.toContain(PASSWORD);
    expect(r.stderr).not.toContain(PASSWORD);
  }
}

const KUBECONFIG =
  "apiVersion: v1\nkind: Config\ncurrent-context: lab\ncontexts:\n  - name: lab\n    context: {cluster: lab}\nclusters:\n  - name: lab\n    cluster: {server: https://10.1.2.3:6443}\n";

describe.skipIf(!ready)("a basic-auth registry behind TLS (htpasswd, openssl-made CA)", () => {
  let registry: OciRegistry;
  let sb: Sandbox;
  let base: PackedAddon;
  let repo: string;
  const outputs: RunResult[] = [];
  const run = async (args: string[], env: Record<string, string> = {}): Promise<RunResult> => {
    const r = await sb.run(args, env);
    outputs.push(r);
    return r;
  };
  const login = async (password: string, ...flags: string[]): Promise<RunResult> => {
    const r = await pk3sWithStdin(
      sb,
      ["registry", "login", registry.host, "--username", USER, "--password-stdin", ...flags],
      `${password}\n`,
    );
    outputs.push(r);
    return r;
  };

  beforeAll(async () => {
    registry = await startOciRegistry({ htpasswd: { [USER]: PASSWORD }, tls: true });
    sb = sandbox();
    repo = `${registry.host}/team/addons`;
    base = await packAddon(sb.root, "base", "1.0.0");
  });
  afterAll(async () => {
    await registry?.stop();
    sb?.cleanup();
  });

  it("an untrusted certificate is refused with what to do; a registry's CA is kept by `registry set`", async () => {
    const untrusted = await login(PASSWORD);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toContain(`error: registry ${registry.host}: its TLS certificate is not trusted by the system CAs`);
    expect(untrusted.stderr).toContain(`pk3s registry set ${registry.host} --ca-file CA.pem`);
    const set = await run(["registry", "set", registry.host, "--ca-file", registry.tls!.caFile, "--json"]);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ registry: registry.host, settings: { caFile: registry.tls!.caFile } });
  });

  it("login checks the password with the registry: a wrong one is refused (exit 1) and nothing is saved", async () => {
    // There is no way to put the password on the command line.
    const noStdin = await run(["registry", "login", registry.host, "--username", USER]);
    expect(noStdin.code).toBe(2);
    expect(noStdin.stderr).toContain("error: pass the password on stdin with --password-stdin");
    const inArgv = await run(["registry", "login", registry.host, "--username", USER, "--password", "x"]);
    expect(inArgv.code).toBe(2);
    const wrong = await login("not-the-password");
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`error: registry ${registry.host} rejected the credentials of user "${USER}"`);
    expect(wrong.stderr).not.toContain("not-the-password");
    expect(() => statSync(join(sb.env.PK3S_CONFIG_DIR!, "registry-auth.json"))).toThrow();
  });

  it("anonymous push and pull are refused (exit 1) with how to log in", async () => {
    const push = await run(["push", base.file, `oci://${repo}`]);
    expect(push.code).toBe(1);
    expect(push.stderr).toContain(`error: registry ${registry.host} requires credentials to`);
    expect(push.stderr).toContain(`hint: log in: pk3s registry login ${registry.host} --username USER --password-stdin`);
    const pull = await run(["addon", "pull", `oci://${repo}/base:1.0.0`]);
    expect(pull.code).toBe(1);
    expect(pull.stderr).toContain(`error: registry ${registry.host} requires credentials to`);
  });

  it("login saves docker's format in a 0600 file that skopeo reads; push, show, pull and install then work", async () => {
    const ok = await login(PASSWORD, "--json");
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    const authFile = join(sb.env.PK3S_CONFIG_DIR!, "registry-auth.json");
    expect(JSON.parse(ok.stdout)).toMatchObject({ registry: registry.host, username: USER, check: "verified", file: authFile });
    expect(statSync(authFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(authFile, "utf8"))).toEqual({
      auths: { [registry.host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString("base64") } },
    });
    const list = await run(["registry", "list", "--json"]);
    expect(JSON.parse(list.stdout).registries).toEqual([
      expect.objectContaining({ registry: registry.host, username: USER, caFile: registry.tls!.caFile, plainHttp: false }),
    ]);

    const pushed = await run(["push", base.file, `oci://${repo}`, "--json"]);
    expect(pushed.stderr).toBe("");
    expect(pushed.code).toBe(0);
    const digest = JSON.parse(pushed.stdout).digest as string;
    // An independent client, with pk3s's login file as its auth file and the registry's CA.
    const raw = await skopeoRaw(`${repo}/base:1.0.0`, ["--authfile", authFile, "--cert-dir", registry.tls!.certDir]);
    expect(sha256(raw)).toBe(digest);
    expect(JSON.parse(raw).layers[0].digest).toBe(base.digest);

    const pulled = await run(["addon", "pull", `oci://${repo}/base@${digest}`, "-o", join(sb.root, "pulled"), "--json"]);
    expect(pulled.code).toBe(0);
    expect(readFileSync(JSON.parse(pulled.stdout).file).equals(base.bytes)).toBe(true);

    const added = await run(["catalog", "add", "team", `oci://${repo}`, "--json"]);
    expect(added.code).toBe(0);
    const stubs = stubRuntimes(join(sb.root, "stubs"));
    writeFileSync(join(sb.root, "kubeconfig.yaml"), KUBECONFIG);
    const installed = await run(["addon", "install", "team/base", "--kubeconfig", join(sb.root, "kubeconfig.yaml")], {
      ...stubs.env,
      STUB_STDOUT_addon_list: JSON.stringify({ ok: true, cluster: { server: "https://10.1.2.3:6443" }, addons: [] }),
    });
    expect(installed.stderr).toContain("Resolved base@1.0.0");
    expect(installed.code).toBe(0);
    const calls = readStubLog(stubs.log);
    expect(calls.map((c) => c.argv.slice(0, 2))).toEqual([
      ["addon", "list"],
      ["addon", "install"],
    ]);
    // The runtime gets a verified cached file; no credential travels on its command line.
    expect(JSON.stringify(calls)).not.toContain(PASSWORD);
  });

  it("the user's own ~/.docker/config.json is used; logout forgets pk3s's login", async () => {
    const other = sandbox();
    try {
      mkdirSync(join(other.env.HOME!, ".docker"), { recursive: true });
      writeFileSync(
        join(other.env.HOME!, ".docker", "config.json"),
        JSON.stringify({
          auths: { [`https://${registry.host}`]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString("base64") } },
          credsStore: "",
        }),
      );
      const r = await other.run(["addon", "show", `oci://${repo}/base:1.0.0`, "--ca-file", registry.tls!.caFile, "--json"]);
      outputs.push(r);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).package).toMatchObject({ name: "base", version: "1.0.0", digest: base.digest });
    } finally {
      other.cleanup();
    }

    const out = await run(["registry", "logout", registry.host, "--json"]);
    expect(JSON.parse(out.stdout)).toMatchObject({ registry: registry.host, removed: true });
    const refused = await run(["addon", "show", `oci://${repo}/base:1.0.0`]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`error: registry ${registry.host} requires credentials to`);
  });

  it("the password is in no output and in no file but the login file", async () => {
    // Log in again so the login file exists while everything pk3s wrote (config, cache, state) is scanned.
    expect((await login(PASSWORD)).code).toBe(0);
    expectNoSecret(...outputs);
    expect(filesHoldingSecret(sb.root)).toEqual([join(sb.env.PK3S_CONFIG_DIR!, "registry-auth.json")]);
  });
});

describe.skipIf(!ready)("a token-auth registry (the distribution bearer flow, checked by the registry itself)", () => {
  let registry: OciRegistry;
  let sb: Sandbox;
  let base: PackedAddon;
  let repo: string;
  const outputs: RunResult[] = [];
  /** ci may pull and push anywhere; anyone may pull public/…; nobody else gets anything. */
  const policy = (user: string | undefined, type: string, name: string, requested: string[]): string[] => {
    if (type !== "repository") return user === USER ? requested : [];
    if (user === USER) return requested;
    return name.startsWith("public/") ? requested.filter((a) => a === "pull") : [];
  };
  const run = async (args: string[], env: Record<string, string> = {}): Promise<RunResult> => {
    const r = await sb.run(args, env);
    outputs.push(r);
    return r;
  };
  const tokenRequests = () => registry.token!.requests;

  beforeAll(async () => {
    registry = await startOciRegistry({ token: { users: { [USER]: PASSWORD }, grants: policy } });
    sb = sandbox();
    repo = `${registry.host}/team/addons`;
    base = await packAddon(sb.root, "base", "1.0.0");
  });
  afterAll(async () => {
    await registry?.stop();
    sb?.cleanup();
  });

  it("login gets a token with the password (a wrong one: exit 1)", async () => {
    const wrong = await pk3sWithStdin(sb, ["registry", "login", registry.host, "--username", USER, "--password-stdin"], "wrong-pw");
    outputs.push(wrong);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`error: registry ${registry.host} rejected the credentials of user "${USER}"`);
    const ok = await pk3sWithStdin(sb, ["registry", "login", registry.host, "--username", USER, "--password-stdin", "--json"], PASSWORD);
    outputs.push(ok);
    expect(ok.stderr).toBe("");
    expect(JSON.parse(ok.stdout)).toMatchObject({ registry: registry.host, username: USER, check: "verified" });
    expect(tokenRequests().at(-1)).toMatchObject({ user: USER, sentCredentials: true, status: 200 });
  });

  it("push and pull through bearer tokens: one token per scope and command, asked with the credentials", async () => {
    let before = tokenRequests().length;
    const pushed = await run(["push", base.file, `oci://${repo}`, "--json"]);
    expect(pushed.stderr).toBe("");
    expect(pushed.code).toBe(0);
    const pushTokens = tokenRequests().slice(before);
    expect(pushTokens.every((t) => t.user === USER && t.status === 200)).toBe(true);
    expect(pushTokens.some((t) => t.scopes.some((s) => /^repository:team\/addons\/base:(pull,push|push,pull)$/.test(s)))).toBe(true);
    const scopesAsked = pushTokens.map((t) => t.scopes.join(" "));
    expect(new Set(scopesAsked).size).toBe(scopesAsked.length);

    before = tokenRequests().length;
    const pulled = await run(["addon", "pull", `oci://${repo}/base:1.0.0`, "-o", join(sb.root, "pulled"), "--json"]);
    expect(pulled.stderr).toBe("");
    expect(pulled.code).toBe(0);
    expect(readFileSync(JSON.parse(pulled.stdout).file).equals(base.bytes)).toBe(true);
    // Manifest and blob share one token: the pull asked the token service once.
    expect(tokenRequests().slice(before)).toEqual([
      expect.objectContaining({ user: USER, scopes: ["repository:team/addons/base:pull"], status: 200 }),
    ]);
  });

  it("anonymous: a public repository pulls with an anonymous token, a private one is refused (exit 1)", async () => {
    expect((await run(["push", base.file, `oci://${registry.host}/public/addons`])).code).toBe(0);
    const anon = sandbox();
    try {
      const before = tokenRequests().length;
      const pub = await anon.run([
        "addon",
        "pull",
        `oci://${registry.host}/public/addons/base:1.0.0`,
        "-o",
        join(anon.root, "out"),
        "--json",
      ]);
      outputs.push(pub);
      expect(pub.stderr).toBe("");
      expect(pub.code).toBe(0);
      expect(
        tokenRequests()
          .slice(before)
          .every((t) => !t.sentCredentials && t.user === undefined),
      ).toBe(true);
      const priv = await anon.run(["addon", "pull", `oci://${repo}/base:1.0.0`]);
      outputs.push(priv);
      expect(priv.code).toBe(1);
      expect(priv.stderr).toContain(`error: registry ${registry.host}`);
      expect(priv.stderr).toContain(`hint: log in: pk3s registry login ${registry.host}`);
    } finally {
      anon.cleanup();
    }
  });

  it("access revoked at the token service: a clear refusal (exit 1) naming the user", async () => {
    registry.token!.setGrants(() => []);
    try {
      const r = await run(["addon", "show", `oci://${repo}/base:1.0.0`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`error: registry ${registry.host}`);
      expect(r.stderr).toContain(USER);
    } finally {
      registry.token!.setGrants(policy);
    }
  });

  it("the password is in no output and in no file but the login file", () => {
    expectNoSecret(...outputs);
    expect(filesHoldingSecret(sb.root)).toEqual([join(sb.env.PK3S_CONFIG_DIR!, "registry-auth.json")]);
    expect(statSync(join(sb.env.PK3S_CONFIG_DIR!, "registry-auth.json")).mode & 0o777).toBe(0o600);
  });
});
