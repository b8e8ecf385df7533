// biome-ignore-all lint/suspicious/noTemplateCurlyInString: env files use ${VAR} syntax literally
/** Writing small package source trees for tests. */
import { chmod, mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export type Tree = Record<string, string | { content: string; mode: number }>;

export async function writeTree(root: string, tree: Tree): Promise<string> {
  for (const [path, spec] of Object.entries(tree)) {
    const abs = join(root, path);
    await mkdir(dirname(abs), { recursive: true });
    const content = typeof spec === "string" ? spec : spec.content;
    await writeFile(abs, content);
    if (typeof spec !== "string") await chmod(abs, spec.mode);
  }
  return root;
}

export async function tempDir(prefix = "pkgfmt-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export const ADDON_TREE: Tree = {
  "addon.yaml": `apiVersion: addons.productive-k3s.io/v1
kind: Addon
metadata:
  name: demo
  version: 1.2.3
  category: example
  description: A demo add-on
spec:
  type: helm
  chart:
    path: charts/demo
    values: [values.yaml]
  install:
    script: scripts/install.sh
  hooks:
    preInstall: scripts/pre.sh
`,
  "charts/demo/Chart.yaml": "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
  "charts/demo/templates/cm.yaml": "kind: ConfigMap\n",
  "values.yaml": "replicas: 1\n",
  "scripts/install.sh": { content: "#!/bin/sh\necho install\n", mode: 0o755 },
  "scripts/pre.sh": { content: "#!/bin/sh\necho pre\n", mode: 0o755 },
  "README.md": "# demo\n",
};

export const PROFILE_TREE: Tree = {
  "profile.yaml": `apiVersion: infra.productive-k3s.io/v1
kind: Profile
metadata:
  name: multipass-basic
  version: 1.0.0
  category: local
spec:
  scenario:
    type: multipass
  engine:
    type: ansible
  inputs:
    - name: CLUSTER_NAME
      required: true
      source: package-default
    - name: SSH_KEY
      required: true
      sensitive: true
      source: local-override
  execution:
    installScript: scenario/install.sh
`,
  "profile.env": "CLUSTER_NAME=demo\nDOMAIN=${CLUSTER_NAME}.lab\n",
  "scenario/playbook.yml": "- hosts: all\n",
  "scenario/install.sh": { content: "#!/bin/sh\n", mode: 0o755 },
};
