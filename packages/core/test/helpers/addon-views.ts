/** AddonView fixtures for the in-process tests (the same add-on as fixtures/addons/longhorn). */
import type { AddonView } from "../../src/manifest-view.js";

export const longhorn: AddonView = {
  metadata: { name: "longhorn", version: "1.0.0" },
  spec: {
    type: "helm",
    chart: { path: "charts/longhorn", releaseName: "longhorn", namespace: "longhorn-system", values: ["values.yaml"] },
    install: { script: "scripts/install.sh" },
    validate: { script: "scripts/validate.sh" },
    clean: { script: "scripts/clean.sh" },
    hooks: {
      preInstall: "scripts/hooks/pre-install.sh",
      postInstall: "scripts/hooks/post-install.sh",
      postUninstall: "scripts/hooks/post.sh",
    },
    dependencies: [{ name: "cert-manager", version: "*" }],
    compatibility: {
      architectures: ["amd64", "arm64"],
      k3s: { minVersion: "1.31" },
      kubernetes: { distros: ["k3s"] },
      requires: { core: { minVersion: "0.1.0", maxVersionExclusive: "2.0.0" } },
    },
  },
};
