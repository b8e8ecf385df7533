#!/usr/bin/env bash
# The lab is there when its kubeconfig is.
set -euo pipefail
test -f "$PK3S_OUTPUT_KUBECONFIG" && echo "hello-lab: $PK3S_OUTPUT_LAB_DIR is laid out"
