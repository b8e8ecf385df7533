#!/usr/bin/env bash
# The greeting ConfigMap is there.
set -euo pipefail
"${PK3S_KUBECTL_BIN:-kubectl}" --kubeconfig "$KUBECONFIG" --context "$PK3S_KUBE_CONTEXT" get configmap greeting -n hello
