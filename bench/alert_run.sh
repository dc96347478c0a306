#!/usr/bin/env bash
# bench/alert_run.sh: signal-to-alert latency and restart times through the
# real services (issue 20), on the scorer benchmarks' supply graph.
#
#   bench/alert_run.sh            # 1M entities / 5M edges, 100 changes
#   bench/alert_run.sh --quick    # 100k / 500k, 50 changes, while iterating
#   bench/alert_run.sh --check    # also exit 2 when a target is missed
#   CHANGES=200 RESTARTS=5 bench/alert_run.sh   # other counts
#   ALERTMANAGER=0 bench/alert_run.sh            # without Alertmanager
#   SERVING_TIMEOUT=40m bench/alert_run.sh       # a slow first start
#   GRAPH_CACHE=/tmp/g1m bench/alert_run.sh      # keep the written graph there
#                                                # and copy it on later runs
#
# Builds `bazel build -c opt //bench:alert_bench //services/graphstore
# //services/ingest //services/scorer`, copies the binaries into a fresh
# directory under ${BENCH_DIR:-/tmp} (removed at exit), and runs alert_bench
# (bench/alert_bench.cc), which writes the graph into a graphstore data
# directory, starts graphstore, a real Alertmanager
# (/usr/bin/prometheus-alertmanager, when installed), the scorer and ingest on
# loopback ports picked by the kernel, sends signal changes through
# Ingest.IngestBatch one at a time and times each from its answer to the
# alert on Alerts.WatchAlerts and to Alertmanager's receipt, beside the
# IngestBatch round trip itself; then restarts the scorer and graphstore.
# Targets: alert p99 < 250 ms (WatchAlerts and Alertmanager); scorer restart
# to SERVING < 10 s at 1M/5M; the scorer's peak resident memory (VmHWM)
# <= 150 bytes per edge. Prints the machine, the command and a table.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; }

bench_parse_args "$@"

if [[ $QUICK == 1 ]]; then
  ENTITIES=100000 EDGES=500000 CHANGES="${CHANGES:-50}"
else
  ENTITIES=1000000 EDGES=5000000 CHANGES="${CHANGES:-100}"
fi
RESTARTS="${RESTARTS:-3}"
ALERT_TARGET=250     # ms, p99 (issue 20)
RESTART_TARGET=10000 # ms, scorer restart to SERVING at 1M/5M (issue 20)
MEMORY_TARGET=150    # bytes per edge, the scorer's VmHWM (issue 20)
AM=/usr/bin/prometheus-alertmanager

cd "$(dirname "$0")/.."
echo "== build: bazel build -c opt //bench:alert_bench //services/graphstore //services/ingest //services/scorer"
bazel build -c opt //bench:alert_bench //services/graphstore //services/ingest //services/scorer
BIN_DIR="$(bazel info -c opt bazel-bin 2> /dev/null)"

bench_make_work georisk-alert-bench
mkdir -p "$WORK/bin" "$WORK/run"
cp "$BIN_DIR/bench/alert_bench" "$WORK/bin/"
for n in graphstore ingest scorer; do cp "$BIN_DIR/services/$n/$n" "$WORK/bin/"; done
AM_FLAG=()
if [[ ${ALERTMANAGER:-1} == 0 ]]; then
  AM_VERSION="not used (ALERTMANAGER=0)"
elif [[ -x $AM ]]; then
  AM_FLAG=(--alertmanager="$AM")
  AM_VERSION="$("$AM" --version 2>&1 | head -n 1)"
else
  AM_VERSION="not installed ($AM): apt-get install prometheus-alertmanager"
fi

LOAD_START="$(load)"
echo
echo "== machine"
echo "date:    $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "nproc:   $(nproc)"
echo "cpu:     $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "memory:  $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
echo "alertmanager: $AM_VERSION"
echo "load:    $LOAD_START (1/5/15 min) at start"

echo
echo "== alert_bench: $ENTITIES entities, $EDGES edges, $CHANGES changes, $RESTARTS restarts"
CMD=("$WORK/bin/alert_bench" --dir="$WORK/run" --graphstore="$WORK/bin/graphstore"
  --ingest="$WORK/bin/ingest" --scorer="$WORK/bin/scorer" "${AM_FLAG[@]}"
  --entities="$ENTITIES" --edges="$EDGES" --changes="$CHANGES" --restarts="$RESTARTS"
  --serving_timeout="${SERVING_TIMEOUT:-15m}")
[[ -n ${GRAPH_CACHE:-} ]] && CMD+=(--graph_cache="$GRAPH_CACHE")
echo "\$ ${CMD[*]}" | sed "s#$WORK#\$WORK#g"
# Alertmanager's directory (MakeTempDir) goes under $WORK too.
TEST_TMPDIR="$WORK/run" "${CMD[@]}" > "$WORK/out" 2> >(tee "$WORK/err" | sed -u 's/^/  /' >&2) &
CHILD=$!
if ! wait "$CHILD"; then
  CHILD=""
  echo "alert_run.sh: FAILED" >&2
  cat "$WORK/out" >&2
  exit 1
fi
CHILD=""
LOAD_END="$(load)"

R() { sed -n "s/^RESULT $1=//p" "$WORK/out"; }
met() { awk -v v="$1" -v t="$2" 'BEGIN {print (v < t) ? "MET" : "MISSED"}'; }
row() { printf '| %-40s | %-36s | %-36s | %s |\n' "$@"; }
WATCH_MET=$(met "$(R signal_to_watch_p99_ms)" "$ALERT_TARGET")
AM_MET=""
RESTART_MET=$(met "$(R scorer_restart_median_ms)" "$RESTART_TARGET")
# At most the target: met when not above it.
MEMORY_MET=$(awk -v v="$(R scorer_bytes_per_edge)" -v t="$MEMORY_TARGET" 'BEGIN {print (v <= t) ? "MET" : "MISSED"}')
[[ $QUICK == 1 ]] && RESTART_MET="(target at 1M/5M)"

echo
echo "== results ($([[ $QUICK == 1 ]] && echo quick || echo full) run: $(fmt "$(R entities)") entities, $(fmt "$(R edges)") edges)"
echo "machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); load $LOAD_START at start, $LOAD_END at end"
echo
row "measure" "georisk" "reference / detail" "target / result"
row "---" "---" "---" "---"
row "signal to WatchAlerts ($CHANGES changes)" \
  "p50 $(fmt "$(R signal_to_watch_p50_ms)" 1) ms, p99 $(fmt "$(R signal_to_watch_p99_ms)" 1) ms" \
  "IngestBatch round trip p50 $(fmt "$(R ingest_ack_p50_ms)" 1), p99 $(fmt "$(R ingest_ack_p99_ms)" 1) ms" \
  "p99 < $ALERT_TARGET ms: $WATCH_MET"
if [[ ${#AM_FLAG[@]} -gt 0 ]]; then
  AM_MET=$(met "$(R signal_to_alertmanager_p99_ms)" "$ALERT_TARGET")
  row "signal to Alertmanager (its updatedAt)" \
    "p50 $(fmt "$(R signal_to_alertmanager_p50_ms)" 1) ms, p99 $(fmt "$(R signal_to_alertmanager_p99_ms)" 1) ms" \
    "max $(fmt "$(R signal_to_alertmanager_max_ms)" 1) ms" \
    "p99 < $ALERT_TARGET ms: $AM_MET"
else
  row "signal to Alertmanager" "not measured" "$AM_VERSION" ""
fi
row "  alerts firing at SERVING" "$(fmt "$(R alerts_firing_at_start)") firing" \
  "posted to Alertmanager in $(fmt "$(R alertmanager_drain_s)" 1) s" "(before the timed changes)"
row "  alert records on the stream" "$(fmt "$(R alerts_seen)")" "WatchAlerts max $(fmt "$(R signal_to_watch_max_ms)" 1) ms" ""
row "scorer first start to SERVING" "$(fmt "$(R scorer_first_start_ms)") ms" \
  "graphstore first start $(fmt "$(R graphstore_first_start_ms)") ms" "(loads the graph from graphstore)"
row "scorer restart to SERVING (median of $RESTARTS)" "$(fmt "$(R scorer_restart_median_ms)") ms (max $(fmt "$(R scorer_restart_max_ms)"))" \
  "graphstore restart $(fmt "$(R graphstore_restart_median_ms)") ms (max $(fmt "$(R graphstore_restart_max_ms)"))" \
  "< $RESTART_TARGET ms: $RESTART_MET"
row "scorer peak memory (VmHWM), bytes/edge" "$(fmt "$(R scorer_bytes_per_edge)") bytes per edge" \
  "$(fmt "$(R scorer_vmhwm_mib)") MiB after the changes (first start $(fmt "$(R scorer_first_start_vmhwm_mib)"))" \
  "<= $MEMORY_TARGET bytes per edge: $MEMORY_MET"
row "  after a restart (at SERVING)" "$(fmt "$(R scorer_restart_bytes_per_edge)") bytes per edge" \
  "$(fmt "$(R scorer_restart_vmhwm_mib)") MiB" ""
echo
if [[ -n $(R graph_write_s) ]]; then
  echo "graph written in $(fmt "$(R graph_write_s)" 1) s (not timed in any row); load at end: $LOAD_END"
else
  echo "graph copied from GRAPH_CACHE=$GRAPH_CACHE; load at end: $LOAD_END"
fi

if [[ $CHECK == 1 ]]; then
  missed=0
  [[ $WATCH_MET == MET ]] || missed=1
  [[ -z $AM_MET || $AM_MET == MET ]] || missed=1
  [[ $QUICK == 1 || $RESTART_MET == MET ]] || missed=1
  [[ $MEMORY_MET == MET ]] || missed=1
  if [[ $missed == 1 ]]; then
    echo "alert_run.sh: target missed (WatchAlerts p99 $(fmt "$(R signal_to_watch_p99_ms)" 1) ms, Alertmanager ${AM_MET:-not measured}, target < $ALERT_TARGET ms; scorer restart $(fmt "$(R scorer_restart_median_ms)") ms, target < $RESTART_TARGET ms; scorer $(fmt "$(R scorer_bytes_per_edge)") bytes per edge, target <= $MEMORY_TARGET)" >&2
    exit 2
  fi
fi
