#!/usr/bin/env bash
# README's first command: install what is missing, build, and run georisk on
# loopback (graphstore, ingest, scorer), then print each service's health.
# The services keep running; stop them with: deploy/local/georisk-local down
set -euo pipefail
cd "$(dirname "$0")"
deploy/install-deps.sh
bazel build //services/...
deploy/local/georisk-local up "$@"
echo
echo "Services are running. Next:"
echo "  bazel-bin/services/georiskctl/georiskctl status"
echo "  deploy/local/georisk-local down"
