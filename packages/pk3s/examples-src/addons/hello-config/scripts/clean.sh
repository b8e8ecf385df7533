#!/usr/bin/env bash
# Remove what install.sh applied.
set -euo pipefail
"${PK3S_KUBECTL_BIN:-kubectl}" --kubeconfig "$KUBECONFIG" --context "$PK3S_KUBE_CONTEXT" delete --ignore-not-found -f manifests/hello.yaml
