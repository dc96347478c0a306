#!/usr/bin/env bash
# bench/console_run.sh: the web console's page server time and the score
# history's disk use (issue 19), on the scorer benchmarks' supply graph.
#
#   bench/console_run.sh            # 1M entities / 5M edges, 40 loads a page
#   bench/console_run.sh --quick    # 100k / 500k, while iterating
#   bench/console_run.sh --check    # also exit 2 when a target is missed
#   SAMPLES=100 bench/console_run.sh
#   SERVING_TIMEOUT=40m bench/console_run.sh   # a slow first start (loaded machine)
#
# Builds `bazel build -c opt //bench:console_bench //services/graphstore
# //services/scorer`, copies the binaries into a fresh directory under
# ${BENCH_DIR:-/tmp} (removed at exit), and runs console_bench
# (bench/console_bench.cc): it writes the graph into a graphstore data
# directory, starts graphstore and the scorer with --console_listen on
# loopback, loads the entity and top pages as their scripts do (the page,
# its scripts and its API calls over HTTP keep-alive, 6 connections as
# Chromium), beside the same RPCs over gRPC directly, and the top page as it
# was before ListTopRisks' include_reasons (an ExplainScore a row's
# reason), in turn with it, then stops the scorer
# and measures its history database. Targets (issue 19): entity page < 300
# ms, top page < 100 ms server time (p50). Prints the machine, the load, the
# command and a table.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; }

bench_parse_args "$@"

if [[ $QUICK == 1 ]]; then
  ENTITIES=100000 EDGES=500000
else
  ENTITIES=1000000 EDGES=5000000
fi
SAMPLES="${SAMPLES:-40}"
ENTITY_TARGET=300 # ms, entity page server time (issue 19)
TOP_TARGET=100    # ms, top page server time (issue 19)

cd "$(dirname "$0")/.."
echo "== build: bazel build -c opt //bench:console_bench //services/graphstore //services/scorer"
bazel build -c opt //bench:console_bench //services/graphstore //services/scorer
BIN_DIR="$(bazel info -c opt bazel-bin 2> /dev/null)"

bench_make_work georisk-console-bench
mkdir -p "$WORK/bin" "$WORK/run"
cp "$BIN_DIR/bench/console_bench" "$WORK/bin/"
for n in graphstore scorer; do cp "$BIN_DIR/services/$n/$n" "$WORK/bin/"; done

LOAD_START="$(load)"
echo
echo "== machine"
echo "date:    $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "nproc:   $(nproc)"
echo "cpu:     $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "memory:  $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
echo "load:    $LOAD_START (1/5/15 min) at start"

echo
echo "== console_bench: $ENTITIES entities, $EDGES edges, $SAMPLES loads a page"
CMD=("$WORK/bin/console_bench" --dir="$WORK/run" --graphstore="$WORK/bin/graphstore"
  --scorer="$WORK/bin/scorer" --entities="$ENTITIES" --edges="$EDGES" --samples="$SAMPLES"
  --serving_timeout="${SERVING_TIMEOUT:-15m}")
echo "\$ ${CMD[*]}" | sed "s#$WORK#\$WORK#g"
"${CMD[@]}" > "$WORK/out" 2> >(tee "$WORK/err" | sed -u 's/^/  /' >&2) &
CHILD=$!
if ! wait "$CHILD"; then
  CHILD=""
  echo "console_run.sh: FAILED" >&2
  cat "$WORK/out" >&2
  exit 1
fi
CHILD=""
LOAD_END="$(load)"

R() { sed -n "s/^RESULT $1=//p" "$WORK/out"; }
met() { awk -v v="$1" -v t="$2" 'BEGIN {print (v < t) ? "MET" : "MISSED"}'; }
row() { printf '| %-38s | %-34s | %-34s | %s |\n' "$@"; }
times() { echo "p50 $(fmt "$(R "$1_p50_ms")" 1), p90 $(fmt "$(R "$1_p90_ms")" 1), max $(fmt "$(R "$1_max_ms")" 1) ms"; }
ENTITY_MET=$(met "$(R entity_page_p50_ms)" "$ENTITY_TARGET")
TOP_MET=$(met "$(R top_page_p50_ms)" "$TOP_TARGET")
TOPC_MET=$(met "$(R top_page_company_p50_ms)" "$TOP_TARGET")
[[ $QUICK == 1 ]] && ENTITY_MET="($ENTITY_MET; target at 1M)" && TOP_MET="($TOP_MET; target at 1M)" && TOPC_MET="($TOPC_MET)"
P=$(R history_points)
per() { awk -v b="$1" -v p="$P" 'BEGIN {printf "%.1f", (p > 0) ? b / p : 0}'; }

echo
echo "== results ($([[ $QUICK == 1 ]] && echo quick || echo full) run: $(fmt "$(R entities)") entities, $(fmt "$(R edges)") edges)"
echo "machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); load $LOAD_START at start, $LOAD_END at end"
echo
row "measure" "console (HTTP, JSON)" "reference: same RPCs over gRPC" "target / result"
row "---" "---" "---" "---"
row "entity page ($(fmt "$(R samples)") entities)" "$(times entity_page)" "$(times entity_grpc)" "p50 < $ENTITY_TARGET ms: $ENTITY_MET"
row "top page (25 rows and their reasons)" "$(times top_page)" "$(times top_page_grpc)" "p50 < $TOP_TARGET ms: $TOP_MET"
row "top page, companies only" "$(times top_page_company)" "$(times top_page_company_grpc)" "p50 < $TOP_TARGET ms: $TOPC_MET"
row "before: a call per row's reason" "$(times top_page_per_row)" "$(times top_page_per_row_grpc)" "(ListTopRisks + 25 ExplainScore)"
row "before, companies only" "$(times top_page_company_per_row)" "$(times top_page_company_per_row_grpc)" ""
echo
row "score history (after the first full score)" "bytes" "per point" ""
row "---" "---" "---" "---"
row "points" "$(fmt "$P")" "" ""
row "keys + values (uncompressed)" "$(fmt "$(( $(fmt "$(R history_key_bytes)") + $(fmt "$(R history_value_bytes)") ))")" "$(per "$(( $(fmt "$(R history_key_bytes)") + $(fmt "$(R history_value_bytes)") ))")" "key $(per "$(R history_key_bytes)"), value $(per "$(R history_value_bytes)")"
row "on disk as the scorer left it" "$(fmt "$(R history_bytes_as_left)")" "$(per "$(R history_bytes_as_left)")" "(WAL, SSTs, manifest)"
row "on disk after a full compaction" "$(fmt "$(R history_bytes_compacted)")" "$(per "$(R history_bytes_compacted)")" "SSTs $(fmt "$(R history_sst_bytes_compacted)")"
echo
echo "scorer peak memory (VmHWM): $(fmt "$(awk -v b="$(R scorer_peak_rss_bytes)" 'BEGIN {print b / 1048576}')") MiB; load at end: $LOAD_END"

if [[ $CHECK == 1 && $QUICK == 0 ]]; then
  if [[ $ENTITY_MET != MET || $TOP_MET != MET || $TOPC_MET != MET ]]; then
    echo "console_run.sh: target missed (entity page p50 $(fmt "$(R entity_page_p50_ms)" 1) ms, target < $ENTITY_TARGET; top page p50 $(fmt "$(R top_page_p50_ms)" 1) / $(fmt "$(R top_page_company_p50_ms)" 1) ms, target < $TOP_TARGET)" >&2
    exit 2
  fi
fi
