#!/usr/bin/env bash
# Scorer RPC benchmark (issue 5): GetScore QPS and latency under load from a
# second process, beside a bare gRPC server built the same way (target: the
# scorer reaches at least 0.8x the echo server's QPS). See BENCHMARKS.md,
# "Scorer RPC".
#
#   bench/rpc_run.sh [--prebuilt=DIR]
#
# Builds `bazel build -c opt //bench:rpc_bench //services/graphstore
# //services/ingest //services/scorer //services/georiskctl` (--prebuilt=DIR
# skips the build and takes the five binaries from DIR, flat), lays them out
# in a temp dir as services/<name>/<name>, starts graphstore + ingest + scorer
# with deploy/local/georisk-local (ports picked by the kernel), imports
# data/demo with `georiskctl import`, waits until the scorer serves every demo
# entity, starts `rpc_bench --mode=echo_server`, then for each concurrency
# runs `rpc_bench --mode=load` (a separate process) against the scorer and
# then against the echo server, and prints the table. Every process is
# stopped and the temp dir removed on exit.
#
# Environment: CONCURRENCY="8 32", SECONDS_PER_RUN=10, CHANNELS=4, ROUNDS=3
# (each round runs scorer then echo back to back; the table shows medians
# over rounds, and the median of the per-round QPS ratios).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PREBUILT=""
for arg in "$@"; do
  case "$arg" in
    --prebuilt=*) PREBUILT="${arg#*=}" ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "rpc_run.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done
CONCURRENCY="${CONCURRENCY:-8 32}"
SECONDS_PER_RUN="${SECONDS_PER_RUN:-10}"
CHANNELS="${CHANNELS:-4}"
ROUNDS="${ROUNDS:-3}"

NAMES=(graphstore ingest scorer georiskctl)
if [ -z "$PREBUILT" ]; then
  echo "== build: bazel build -c opt //bench:rpc_bench //services/graphstore //services/ingest //services/scorer //services/georiskctl"
  bazel build -c opt //bench:rpc_bench //services/graphstore //services/ingest \
    //services/scorer //services/georiskctl
  BIN_DIR="$(bazel info -c opt bazel-bin 2> /dev/null)"
  SRC() { if [ "$1" = rpc_bench ]; then echo "$BIN_DIR/bench/rpc_bench"; else echo "$BIN_DIR/services/$1/$1"; fi; }
else
  SRC() { echo "$PREBUILT/$1"; }
fi

WORK="$(mktemp -d /tmp/georisk-rpc-bench.XXXXXX)"
ECHO_PID=""
LOCAL="$WORK/local"
cleanup() {
  set +e
  if [ -n "$ECHO_PID" ]; then
    kill -TERM "$ECHO_PID" 2> /dev/null
    for _ in $(seq 1 100); do kill -0 "$ECHO_PID" 2> /dev/null || break; sleep 0.1; done
    kill -KILL "$ECHO_PID" 2> /dev/null
  fi
  [ -d "$LOCAL/run" ] && deploy/local/georisk-local down --dir "$LOCAL" --bin "$WORK/bin" > /dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for n in "${NAMES[@]}"; do
  mkdir -p "$WORK/bin/services/$n"
  cp "$(SRC "$n")" "$WORK/bin/services/$n/$n"
done
cp "$(SRC rpc_bench)" "$WORK/bin/rpc_bench"
CTL="$WORK/bin/services/georiskctl/georiskctl"
BENCH="$WORK/bin/rpc_bench"

load() { cut -d' ' -f1-3 /proc/loadavg; }

echo "== machine: nproc $(nproc), memory $(free -g | awk '/^Mem:/{print $2}') GiB, load $(load)"
echo "== start graphstore, ingest, scorer (deploy/local/georisk-local up --port-base 0)"
deploy/local/georisk-local up --dir "$LOCAL" --bin "$WORK/bin" --port-base 0 > "$WORK/up.log" 2>&1 ||
  { cat "$WORK/up.log"; exit 1; }
ENDPOINTS="$LOCAL/run/endpoints.env"
SCORER="$(sed -n 's/^GEORISK_SCORER=//p' "$ENDPOINTS")"

echo "== import data/demo"
"$CTL" --endpoints_file="$ENDPOINTS" import --progress=none \
  data/demo/entities.jsonl data/demo/edges.jsonl data/demo/signals.jsonl 2>&1 | tail -n 3

python3 - data/demo/entities.jsonl > "$WORK/ids" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    line = line.strip()
    if line:
        m = json.loads(line)
        if "upsertEntity" in m:
            print(m["upsertEntity"]["id"])
EOF
echo "   $(wc -l < "$WORK/ids") entity ids"

echo "== wait until the scorer serves every demo entity"
ok=0
for _ in $(seq 1 120); do
  if "$CTL" --endpoints_file="$ENDPOINTS" --output=json score $(cat "$WORK/ids") > /dev/null 2>&1; then ok=1; break; fi
  sleep 0.5
done
[ "$ok" = 1 ] || { echo "scorer did not serve every demo entity within 60 s" >&2; exit 1; }
sleep 2  # let the last feed batches settle

echo "== start echo server (rpc_bench --mode=echo_server)"
"$BENCH" --mode=echo_server --port_file="$WORK/echo.ports" --metrics_listen=127.0.0.1:0 \
  > "$WORK/echo.log" 2>&1 < /dev/null &
ECHO_PID=$!
for _ in $(seq 1 100); do [ -s "$WORK/echo.ports" ] && break; sleep 0.1; done
ECHO="127.0.0.1:$(sed -n 's/^grpc_port=//p' "$WORK/echo.ports")"
"$CTL" health --target="$ECHO" --wait=10s > /dev/null

run_load() {  # run_load TARGET CONCURRENCY -> key=value line
  "$BENCH" --mode=load --target="$1" --entity_ids="$WORK/ids" --concurrency="$2" \
    --channels="$CHANNELS" --seconds="$SECONDS_PER_RUN" --warmup_seconds=1
}
kv() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<< "$2"; }

echo "== load: ${SECONDS_PER_RUN} s per run, channels $CHANNELS, rounds $ROUNDS, scorer $SCORER, echo $ECHO"
declare -A ROW
median() { sort -g | awk '{v[NR]=$1} END{print (NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
for c in $CONCURRENCY; do
  S=() E=() R=()
  for r in $(seq 1 "$ROUNDS"); do
    s="$(run_load "$SCORER" "$c")"; echo "  scorer c=$c round $r: $s  (load $(load))"
    e="$(run_load "$ECHO" "$c")";   echo "  echo   c=$c round $r: $e  (load $(load))"
    S+=("$s") E+=("$e")
    R+=("$(awk -v a="$(kv qps "$s")" -v b="$(kv qps "$e")" 'BEGIN{printf "%.3f", (b > 0 ? a / b : 0)}')")
  done
  col() { local k="$1"; shift; for l in "$@"; do kv "$k" "$l"; done | median; }
  ROW[$c]="$(col qps "${S[@]}") $(col p50_us "${S[@]}") $(col p99_us "${S[@]}") $(col qps "${E[@]}") $(col p50_us "${E[@]}") $(col p99_us "${E[@]}") $(printf '%s\n' "${R[@]}" | median) $(printf '%s\n' "${R[@]}" | tr '\n' ' ')"
done

echo
echo "== GetScore: scorer vs bare echo server (same GrpcServer), closed loop from a second process"
echo "   median of $ROUNDS rounds; ratio = median of the per-round scorer/echo QPS ratios (each round runs the two back to back)"
printf '| %-11s | %-10s | %-10s | %-10s | %-8s | %-8s | %-8s | %-22s |\n' \
  concurrency "scorer QPS" "scorer p50" "scorer p99" "echo QPS" "echo p50" "echo p99" "QPS ratio (target 0.8)"
echo "|-------------|------------|------------|------------|----------|----------|----------|------------------------|"
for c in $CONCURRENCY; do
  read -r sq s50 s99 eq e50 e99 ratio rounds <<< "${ROW[$c]}"
  met=$(awk -v r="$ratio" 'BEGIN{print (r >= 0.8 ? "met" : "NOT met")}')
  printf '| %-11s | %-10.0f | %-10s | %-10s | %-8.0f | %-8s | %-8s | %-22s |\n' "$c" "$sq" \
    "$s50 us" "$s99 us" "$eq" "$e50 us" "$e99 us" "$(printf '%.2f' "$ratio") $met"
  echo "   c=$c per-round ratios: $rounds" >> "$WORK/rounds"
done
cat "$WORK/rounds"
echo "load after: $(load)"
