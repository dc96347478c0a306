#!/usr/bin/env bash
# Measures /metrics scrape latency of a graphstore binary under a small load:
# wrk with 4 connections on 2 threads for 10 s (keep-alive, as Prometheus
# scrapes), then 200 sequential one-shot curl scrapes (a new connection each).
#
#   bench/metrics_scrape.sh bazel-bin/services/graphstore/graphstore
#
# Needs Debian's wrk and curl. Prints wrk's latency table and curl's
# median/p99 time_total.
set -euo pipefail
bin="${1:?usage: $0 GRAPHSTORE_BINARY}"
dir="$(mktemp -d)"
trap 'kill "${pid:-}" 2>/dev/null || true; wait "${pid:-}" 2>/dev/null || true; rm -rf "$dir"' EXIT
"$bin" --data_dir="$dir/db" --listen=127.0.0.1:0 --metrics_listen=127.0.0.1:0 \
  --port_file="$dir/ports" --log_level=error &
pid=$!
for _ in $(seq 100); do [ -s "$dir/ports" ] && break; sleep 0.1; done
port="$(sed -n 's/.*metrics_port=\([0-9]*\).*/\1/p' "$dir/ports" | head -1)"
url="http://127.0.0.1:$port/metrics"
echo "scrape size: $(curl -s "$url" | wc -c) bytes"
wrk -t2 -c4 -d10s --latency "$url"
for _ in $(seq 200); do curl -s -o /dev/null -w '%{time_total}\n' "$url"; done |
  sort -n | awk '{a[NR]=$1} END {printf "curl one-shot: median %.2f ms, p99 %.2f ms (n=%d)\n", a[int(NR/2)]*1000, a[int(NR*0.99)]*1000, NR}'
