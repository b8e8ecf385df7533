/**
 * The add-on script contract (issue 16): published-style scripts run from
 * Core's run directory, their phase functions are called, the helper
 * library they source is Core's, kubectl and helm go to the install's
 * cluster, host helpers act through the tools on PATH and only with consent.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSandbox, fixtures, k3sKubeconfig, repoRoot, type Sandbox } from "./helpers/harness.js";
import { kubectlAnswers, lifecycleFixtures, packFixture, scriptKubectl, stubHost } from "./helpers/lifecycle-fixtures.js";

let sb: Sandbox;
beforeEach(async () => {
  sb = await createSandbox();
});
afterEach(async () => {
  await sb.cleanup();
});

const hostCalls = (calls: { tool: string; argv: string[] }[]): string[] =>
  calls.filter((c) => ["dpkg", "apt-get", "dnf", "rpm", "systemctl", "sudo"].includes(c.tool)).map((c) => `${c.tool} ${c.argv.join(" ")}`);

describe("published-style scripts under Core", () => {
  it("sources the scripts in Core's run directory and calls their phase functions; kubectl is bound to the install's cluster", async () => {
    const host = await stubHost(sb);
    const tgz = await packFixture(sb, "lab-registry");
    const r = await sb.run(["addon", "install", "--tgz", tgz, "--allow-host-changes", "--json"], host.env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, action: "install", status: "deployed", revision: 1, hostChanges: "allowed" });

    // What pk3s_addon_install and pk3s_lab_registry_validate asked of kubectl (through `kctl`/`k`), in order.
    const calls = await sb.calls();
    expect(scriptKubectl(calls, k3sKubeconfig, "default")).toEqual([
      ["apply", "-f", "-"],
      [
        "label",
        "namespace",
        "lab-registry",
        "--overwrite",
        "pk3s.io/host=registry.lab.internal",
        "pk3s.io/size=10Gi",
        "pk3s.io/version=1.0.0",
      ],
      ["-n", "lab-registry", "create", "secret", "generic", "lab-registry-auth", "--from-file=password=/dev/stdin"],
      ["-n", "lab-registry", "rollout", "status", "deployment/lab-registry", "--timeout=5m"],
      ["get", "namespace", "lab-registry"],
      ["get", "namespace", "lab-registry"],
      ["get", "pods", "-n", "lab-registry", "--no-headers"],
      ["get", "deployments", "-n", "lab-registry", "--no-headers"],
      ["-n", "lab-registry", "get", "deployment", "lab-registry", "-o", "jsonpath={.status.readyReplicas}"],
    ]);
    // The host helpers went through the tools on PATH (stubs here) and the host root.
    expect(hostCalls(calls)).toEqual([
      "dpkg -s apache2-utils",
      "apt-get update -y",
      "apt-get install -y apache2-utils",
      "systemctl is-active --quiet lab-registry-sync",
      "systemctl enable --now lab-registry-sync",
    ]);
    expect(await readFile(host.hostsFile, "utf8")).toBe("127.0.0.1 localhost\n10.0.0.5 registry.lab.internal\n");

    // `<scripts>/../../../scripts/addon-host-runtime.sh` is Core's library, inside the run directory, removed afterwards.
    const library = /\[install\] \[INFO\] helper library: (\S+)/.exec(r.stderr)?.[1];
    expect(library).toMatch(/\/pk3s-core-run-\w+\/scripts$/);
    expect(existsSync(library as string)).toBe(false);
    expect(r.stderr).toContain("==> install: bash ../../scripts/pk3s-phase.sh install scripts/install.sh");
  });

  it("binds kubectl and plain helm calls to --kubeconfig/--context, not the kubeconfig's current context; specific phase names are called", async () => {
    const kubeconfig = join(fixtures, "kubeconfig/two-clusters.yaml");
    const tgz = await packFixture(sb, "lab-dashboard");
    const r = await sb.run(["addon", "install", "--tgz", tgz, "--kubeconfig", kubeconfig, "--context", "edge-admin"], {
      PK3S_STUB_ENV_KEYS: "HELM_KUBECONTEXT",
    });
    expect(r.code, r.stderr).toBe(0);
    const calls = await sb.calls();
    // pk3s_lab_dashboard_install and _validate (no pk3s_addon_* in these scripts) ran, bound to edge-admin.
    expect(scriptKubectl(calls, kubeconfig, "edge-admin")).toEqual([
      ["-n", "lab-dashboard", "annotate", "configmap", "lab-dashboard-settings", "--overwrite", "pk3s.io/title=Lab"],
      ["-n", "lab-dashboard", "get", "configmap", "lab-dashboard-settings"],
    ]);
    const plainHelm = calls.filter((c) => c.tool === "helm" && c.argv[0] === "status" && !c.argv.includes("--kube-context"));
    expect(plainHelm.map((c) => [c.argv, c.env.HELM_KUBECONTEXT, c.env.KUBECONFIG])).toEqual([
      [["status", "lab-dashboard", "--namespace", "lab-dashboard", "-o", "json"], "edge-admin", kubeconfig],
    ]);
  });

  it("a host helper refuses to change this machine for an add-on that does not declare spec.impact.host", async () => {
    const host = await stubHost(sb);
    const tgz = await packFixture(sb, "lab-dashboard");
    const r = await sb.run(["addon", "install", "--tgz", tgz, "--allow-host-changes"], {
      ...host.env,
      LAB_DASHBOARD_TRY_HOST_CHANGE: "y",
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "[install] [ERROR] refusing to install the packages jq-not-installed (lab dashboard) on this machine: lab-dashboard does not declare spec.impact.host",
    );
    expect(hostCalls(await sb.calls())).toEqual(["dpkg -s jq-not-installed"]);
  });
});

describe("dev addon validate|package: paths outside the package", () => {
  it("warn about what scripts reach outside the package that the runtime does not provide", async () => {
    const clean = await sb.run(["dev", "addon", "validate", "--source", join(lifecycleFixtures, "lab-registry"), "--json"]);
    expect(JSON.parse(clean.stdout).warnings).toEqual([]); // ../../../scripts/addon-host-runtime.sh is provided

    const src = join(sb.root, "src-outside");
    await cp(join(lifecycleFixtures, "lab-registry"), src, { recursive: true });
    const install = join(src, "scripts/install.sh");
    const text = await readFile(install, "utf8");
    await writeFile(
      install,
      text.replace(
        `source "\${ADDON_SCRIPT_DIR}/../../../scripts/addon-host-runtime.sh"\n`,
        `source "\${ADDON_SCRIPT_DIR}/../../../scripts/addon-host-runtime.sh"\nsource "\${ADDON_SCRIPT_DIR}/../../../lib/common.sh"\n. ../shared/env.sh\nsource "$PRODUCTIVE_K3S_CORE_REPO_DIR/scripts/apply.sh"\n`,
      ),
    );
    const r = await sb.run(["dev", "addon", "validate", "--source", src, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const warnings = JSON.parse(r.stdout).warnings as { file: string; path: string; message: string; severity: string }[];
    expect(warnings.map((w) => [w.file, w.path, w.message.split(" ")[0], w.severity])).toEqual([
      ["scripts/install.sh", "line 7", `\${ADDON_SCRIPT_DIR}/../../../lib/common.sh`, "warning"],
      ["scripts/install.sh", "line 8", "../shared/env.sh", "warning"],
      ["scripts/install.sh", "line 9", "$PRODUCTIVE_K3S_CORE_REPO_DIR/scripts/apply.sh:", "warning"],
    ]);
    expect(warnings[0]?.message).toContain("Core provides only ../../scripts/addon-host-runtime.sh and ../../scripts/runtime-contract.sh");
    const packed = await sb.run(["dev", "addon", "package", "--source", src, "--out", join(sb.root, "out"), "--json"]);
    expect(packed.code, packed.stderr).toBe(0);
    expect(JSON.parse(packed.stdout).warnings).toHaveLength(3);
    // Without --json the package's warnings are part of its text result.
    const human = await sb.run(["dev", "addon", "package", "--source", src, "--out", join(sb.root, "out-text")]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain("warning: scripts/install.sh: line 8: ../shared/env.sh is outside the package");
  });
});

describe("Core's runtime library", () => {
  const library = join(repoRoot, "packages/core/runtime/scripts/addon-host-runtime.sh");
  /** Every helper the five published add-ons call, and the runtime contract's pk3s_runtime_* functions. */
  const published = [
    ...["log", "warn", "err", "info", "need_cmd", "kctl", "k", "kubectl_k3s", "prompt", "prompt_yesno", "write_addon_config_var"],
    ...["safe_write_cmd", "safe_run", "record_ok", "record_warn", "record_fail", "check_namespace_rollup", "cluster_node_count"],
    ...["default_storageclasses", "delete_named_resources_matching", "longhorn_setting_value", "check_longhorn_volume_health"],
    ...["pk3s_runtime_validate_selection", "pk3s_runtime_distro_label", "pk3s_runtime_distro_display_name", "pk3s_runtime_cluster_label"],
    ...["pk3s_runtime_server_service", "pk3s_runtime_agent_service", "pk3s_runtime_system_kubeconfig_path"],
    ...["pk3s_runtime_default_user_kubeconfig_path", "pk3s_runtime_default_ingress_class", "pk3s_runtime_join_token_path"],
    ...["pk3s_runtime_uninstall_script_path", "pk3s_runtime_killall_script_path", "pk3s_runtime_state_dirs"],
    ...[
      "pk3s_runtime_embedded_kubectl_bin",
      "pk3s_runtime_addon_kubectl_mode",
      "pk3s_runtime_addon_kubectl_bin",
      "pk3s_runtime_kubectl_hint",
    ],
    ...["pk3s_runtime_server_active", "pk3s_runtime_agent_active", "pk3s_runtime_component_active", "pk3s_runtime_kubectl"],
    ...["pk3s_runtime_cmd_exists", "pk3s_runtime_log", "pk3s_runtime_warn", "pk3s_runtime_run_cmd", "pk3s_manifest_complete_optional"],
    ...["pk3s_track_install_optional", "pk3s_track_reuse_optional", "pk3s_result_for_mode_optional", "pk3s_service_active_optional"],
    ...["pk3s_pkg_installed_optional", "pk3s_addon_kubectl", "pk3s_ensure_packages_optional", "pk3s_enable_service_optional"],
    ...["pk3s_ensure_directory_optional", "pk3s_replace_local_hosts_entry", "pk3s_remove_local_hosts_entry"],
    ...["pk3s_export_tls_secret_cert", "pk3s_install_local_docker_trust", "pk3s_remove_local_docker_trust"],
  ];

  it("defines every helper published scripts call, sourced twice under set -euo pipefail", () => {
    const out = execFileSync(
      "bash",
      [
        "-c",
        'set -euo pipefail; source "$1"; source "$1"; shift; for f in "$@"; do declare -F "$f" >/dev/null || echo "missing $f"; done',
        "_",
        library,
        ...published,
      ],
      { encoding: "utf8" },
    );
    expect(out).toBe("");
  });

  it("edits a hosts file by name: other names on a line stay, comments stay", async () => {
    const host = await stubHost(sb);
    await import("node:fs/promises").then((fs) =>
      fs.writeFile(host.hostsFile, "# lab\n127.0.0.1 localhost reg.lab\n10.0.0.9 reg.lab\n10.0.0.8 other\n"),
    );
    const script =
      'source "$1"; pk3s_replace_local_hosts_entry reg.lab 10.0.0.5 c >/dev/null; cat "$PK3S_HOST_ROOT/etc/hosts"; pk3s_remove_local_hosts_entry reg.lab; echo --; cat "$PK3S_HOST_ROOT/etc/hosts"';
    const out = execFileSync("bash", ["-c", script, "_", library], {
      encoding: "utf8",
      env: { ...process.env, ...host.env, PK3S_ALLOW_HOST_CHANGES: "y" },
    });
    expect(out).toBe("# lab\n127.0.0.1 localhost\n10.0.0.8 other\n10.0.0.5 reg.lab\n--\n# lab\n127.0.0.1 localhost\n10.0.0.8 other\n");
  });

  it("installs and removes Docker trust for a registry from its TLS secret, through kubectl and systemctl", async () => {
    const host = await stubHost(sb);
    const answers = await kubectlAnswers(sb, [
      { args: ["get", "secret", "registry-tls"], stdout: Buffer.from("-----BEGIN CERTIFICATE-----\nfixture\n").toString("base64") },
    ]);
    const env = {
      ...process.env,
      ...sb.env,
      ...host.env,
      ...answers,
      PK3S_ALLOW_HOST_CHANGES: "y",
      STUB_HOST_UNITS: "docker",
    };
    const ca = join(host.root, "etc/docker/certs.d/registry.lab:5000/ca.crt");
    execFileSync(
      "bash",
      ["-c", 'source "$1"; pk3s_install_local_docker_trust registry registry-tls registry.lab:5000 trust', "_", library],
      { env },
    );
    expect(await readFile(ca, "utf8")).toBe("-----BEGIN CERTIFICATE-----\nfixture\n");
    execFileSync("bash", ["-c", 'source "$1"; pk3s_remove_local_docker_trust registry.lab:5000', "_", library], { env });
    expect(existsSync(ca)).toBe(false);
    const calls = (await sb.calls()).map((c) => `${c.tool} ${c.argv.join(" ")}`);
    expect(calls).toEqual([
      "kubectl -n registry get secret registry-tls -o jsonpath={.data.tls\\.crt}",
      "systemctl list-unit-files docker.service",
      "systemctl restart docker",
      "systemctl list-unit-files docker.service",
      "systemctl restart docker",
    ]);
    // A name that is not a host name never reaches a path.
    const bad = spawnSync("bash", ["-c", 'source "$1"; pk3s_remove_local_docker_trust ../../etc', "_", library], { env, encoding: "utf8" });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("'../../etc' is not a host name");
  });
});
