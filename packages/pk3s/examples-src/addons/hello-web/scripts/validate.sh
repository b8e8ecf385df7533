#!/usr/bin/env bash
# The Deployment has rolled out.
set -euo pipefail
"${PK3S_KUBECTL_BIN:-kubectl}" --kubeconfig "$KUBECONFIG" --context "$PK3S_KUBE_CONTEXT" rollout status deployment/hello-web -n hello --timeout 120s
