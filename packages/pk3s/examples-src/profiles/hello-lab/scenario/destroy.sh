#!/usr/bin/env bash
# Remove what install.sh laid out (only its own file, then the directory if it is empty).
set -euo pipefail
rm -f "$PK3S_OUTPUT_KUBECONFIG"
rmdir "$PK3S_OUTPUT_LAB_DIR" 2>/dev/null || true
echo "hello-lab: removed"
