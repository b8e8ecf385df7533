#!/usr/bin/env bash
# Apply the namespace and the greeting ConfigMap to the cluster Core targets.
set -euo pipefail
"${PK3S_KUBECTL_BIN:-kubectl}" --kubeconfig "$KUBECONFIG" --context "$PK3S_KUBE_CONTEXT" apply -f manifests/hello.yaml
