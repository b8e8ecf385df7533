#!/usr/bin/env bash
# Lay out the pretend cluster in LAB_DIR and report its outputs (kubeconfig, server, lab_dir).
set -euo pipefail
case "$LAB_DIR" in
  /*) dir="$LAB_DIR" ;;
  *) dir="$PK3S_INVOCATION_DIR/$LAB_DIR" ;;
esac
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
umask 077
cat >"$dir/kubeconfig.yaml" <<YAML
apiVersion: v1
kind: Config
clusters:
  - name: $LAB_CLUSTER_NAME
    cluster:
      server: https://127.0.0.1:6443
      insecure-skip-tls-verify: true
contexts:
  - name: $LAB_CLUSTER_NAME
    context: {cluster: $LAB_CLUSTER_NAME, user: $LAB_CLUSTER_NAME-admin}
current-context: $LAB_CLUSTER_NAME
users:
  - name: $LAB_CLUSTER_NAME-admin
    user: {}
YAML
echo "hello-lab: laid out $LAB_CLUSTER_NAME in $dir"
printf '{"lab_dir": "%s", "kubeconfig": "%s/kubeconfig.yaml", "server": "https://127.0.0.1:6443", "context": "%s"}\n' \
  "$dir" "$dir" "$LAB_CLUSTER_NAME" >"$PK3S_OUTPUTS_FILE"
