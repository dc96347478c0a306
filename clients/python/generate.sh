#!/usr/bin/env bash
# generate.sh: the georisk API's Python stubs, from proto/ with the system
# protoc and gRPC's Python plugin (Debian: protobuf-compiler,
# protobuf-compiler-grpc; they match python3-protobuf 3.21 and python3-grpcio
# 1.51, which Debian's python3-grpc-tools does not).
#
#   clients/python/generate.sh [--out DIR]     # default: clients/python/gen
#
# Writes DIR/georisk/v1/*_pb2.py, *_pb2_grpc.py and DIR/grpc_health/v1/
# health_pb2*.py (grpc.health.v1, under the module name grpcio-health-checking
# uses, as a top-level "grpc" folder would hide the grpc library). Put DIR on
# PYTHONPATH. The output is generated, never committed (.gitignore).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
proto="$here/../../proto"
out="$here/gen"
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "generate.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
plugin=$(command -v grpc_python_plugin || true)
[ -n "$plugin" ] || { echo "generate.sh: grpc_python_plugin not found (apt-get install protobuf-compiler-grpc)" >&2; exit 1; }
command -v protoc >/dev/null || { echo "generate.sh: protoc not found (apt-get install protobuf-compiler)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/grpc_health/v1" "$out"
cp "$proto/grpc/health/v1/health.proto" "$tmp/grpc_health/v1/health.proto"
files=()
for f in "$proto"/georisk/v1/*.proto; do files+=("georisk/v1/$(basename "$f")"); done
protoc --proto_path="$proto" --proto_path="$tmp" \
  --python_out="$out" --grpc_python_out="$out" \
  --plugin=protoc-gen-grpc_python="$plugin" \
  "${files[@]}" grpc_health/v1/health.proto
