#!/usr/bin/env bash
# bench/shards_scores_run.sh: 3 graphstore shards give the scores 1 gives, on
# the bench graph (issue 17, "The scorer follows every shard": byte for byte).
#
#   bench/shards_scores_run.sh            # 1M entities / 5M edges (+5% signals)
#   bench/shards_scores_run.sh --quick    # 100k / 500k
#   bench/shards_scores_run.sh --prebuilt=DIR   # the binaries from DIR, no build
#
# Builds with `bazel build -c opt` (ingest_bench, graphstore, ingest,
# georiskctl, scorer) and the Python stubs (clients/python/generate.sh), then
# on loopback, each on fresh --sync=false data:
#   A: 1 graphstore, ingest, scorer --graphstore;
#   B: 3 graphstore shards under the even map (graphstore-0 also the router,
#      as in prod and the local launcher), ingest --graphstore_shards, scorer
#      --graphstore_shards.
# Imports the generated graph through each ingest (--resolve_on_import=false
# in both), starts each scorer on the whole graph and waits for SERVING, then
# compares every entity's Score of A and B as bytes (bench/compare_scores.py:
# graph_sequence, graph_positions and as_of cleared, they name the feed);
# restarts both scorers and compares again. Prints the import, first-start
# and restart times of each side beside the counts of equal scores; exits 1
# if any score differs, 2 if a scorer did not answer. Stops every process
# and removes the directory at exit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; }

bench_take_prebuilt "$@"
bench_parse_args "${ARGS[@]+"${ARGS[@]}"}"
if [[ $QUICK == 1 ]]; then ENTITIES=100000 EDGES=500000; else ENTITIES=1000000 EDGES=5000000; fi
SERVING_TIMEOUT="${SERVING_TIMEOUT:-60m}"

cd "$(dirname "$0")/.."
ROOT="$PWD"
if [[ -z "$PREBUILT" ]]; then
  bazel build -c opt //bench:ingest_bench //services/graphstore //services/ingest //services/georiskctl //services/scorer
  B="$(bazel info -c opt bazel-bin 2> /dev/null)"
  BINARIES=("$B/bench/ingest_bench" "$B/services/graphstore/graphstore" "$B/services/ingest/ingest"
    "$B/services/georiskctl/georiskctl" "$B/services/scorer/scorer")
else
  BINARIES=("$PREBUILT/ingest_bench" "$PREBUILT/graphstore" "$PREBUILT/ingest" "$PREBUILT/georiskctl" "$PREBUILT/scorer")
fi
bench_make_work georisk-shards-scores
PIDS=()
stop_all() {
  local status=$? pid
  for pid in "${PIDS[@]+"${PIDS[@]}"}"; do kill -TERM "$pid" 2> /dev/null || true; done
  for pid in "${PIDS[@]+"${PIDS[@]}"}"; do wait "$pid" 2> /dev/null || true; done
  rm -rf "$WORK"
  exit "$status"
}
trap stop_all EXIT
mkdir -p "$WORK/bin" "$WORK/logs"
cp "${BINARIES[@]}" "$WORK/bin/"
"$ROOT/clients/python/generate.sh" --out "$WORK/py" > /dev/null
export GEORISK_PY_STUBS="$WORK/py"
CTL="$WORK/bin/georiskctl"

echo "== machine"
echo "date:   $(date -u '+%Y-%m-%d %H:%M:%S UTC'); nproc $(nproc); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "commit: $(git -C "$ROOT" rev-parse --short HEAD)"
echo "load:   $(load) at start; $ENTITIES entities, $EDGES edges"

FILE="$WORK/records.jsonl"
run "$WORK/bin/ingest_bench" --mode=generate --entities="$ENTITIES" --edges="$EDGES" --out="$FILE"
echo "$(fmt "$(result generated_records)") records: $(result generated_entities) entities, $(result generated_edges) edges, $(result generated_signals) signals"
sed -n 's/^{"upsert_entity": *{"id": *"\([^"]*\)".*/\1/p' "$FILE" > "$WORK/ids.txt"
[[ $(wc -l < "$WORK/ids.txt") == "$(result generated_entities)" ]] ||
  { echo "shards_scores_run: read $(wc -l < "$WORK/ids.txt") entity ids of $(result generated_entities)" >&2; exit 1; }

# start NAME BINARY FLAGS...: a server on a free port; its address in ADDR.
start() {
  local name="$1" binary="$2"; shift 2
  "$WORK/bin/$binary" --listen=127.0.0.1:0 --metrics_listen=127.0.0.1:0 \
    --port_file="$WORK/$name.ports" --log_level=warning "$@" > "$WORK/logs/$name.log" 2>&1 &
  PIDS+=($!)
  local i
  for ((i = 0; i < 600; i++)); do [[ -s "$WORK/$name.ports" ]] && break; sleep 0.1; done
  ADDR="127.0.0.1:$(sed -n 's/^grpc_port=//p' "$WORK/$name.ports")"
  [[ $ADDR != "127.0.0.1:" ]] || { echo "$name did not start:" >&2; tail -5 "$WORK/logs/$name.log" >&2; exit 1; }
}
serving() {  # serving ADDR TIMEOUT
  "$CTL" health --target="$1" --wait="$2" > /dev/null
}
import() {  # import INGEST_ADDR -> SECS
  local t0 t1
  t0=$(date +%s.%N)
  "$CTL" import "$FILE" --ingest="$1" --progress=none --format=jsonl > "$WORK/import.out" ||
    { cat "$WORK/import.out" >&2; exit 1; }
  t1=$(date +%s.%N)
  grep -q "^rejected: 0 " "$WORK/import.out" || { cat "$WORK/import.out" >&2; exit 1; }
  SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
}
scorer_start() {  # scorer_start NAME FLAGS... -> ADDR, SECS
  local name="$1" t0 t1; shift
  t0=$(date +%s.%N)
  start "$name" scorer --data_dir="$WORK/$name" --console_listen="" "$@"
  serving "$ADDR" "$SERVING_TIMEOUT" || { tail -5 "$WORK/logs/$name.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
}
vmhwm() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

echo
echo "== A: one graphstore"
start a-graphstore graphstore --data_dir="$WORK/a-graph" --sync=false
A_GS="$ADDR"
start a-ingest ingest --graphstore="$A_GS" --resolve_on_import=false
import "$ADDR"
A_IMPORT=$SECS
echo "import: $A_IMPORT s; load $(load)"

echo "== B: three shards"
MAP="0=0-341;1=342-682;2=683-1023"
B_TARGETS=""
for i in 1 2; do
  start "b-graphstore-$i" graphstore --data_dir="$WORK/b-graph-$i" --sync=false --partition_map="$MAP" --shard_index="$i"
  eval "B_GS_$i=$ADDR"
done
# graphstore-0 routes, as every prod pod does: its export through the router
# would be every shard's, its feed its own.
start b-graphstore-0 graphstore --data_dir="$WORK/b-graph-0" --sync=false --partition_map="$MAP" --shard_index=0 \
  --route --route_shards="127.0.0.1:0,$B_GS_1,$B_GS_2"
B_TARGETS="$ADDR,$B_GS_1,$B_GS_2"
start b-ingest ingest --graphstore_shards="$B_TARGETS" --partition_map="$MAP" --resolve_on_import=false
import "$ADDR"
B_IMPORT=$SECS
echo "import: $B_IMPORT s; load $(load)"

echo
echo "== the scorers' first starts, one after the other"
scorer_start a-scorer --graphstore="$A_GS"
A_SCORER="$ADDR" A_START=$SECS A_HWM=$(vmhwm "${PIDS[-1]}") A_PID_INDEX=$((${#PIDS[@]} - 1))
echo "A: SERVING after $A_START s, VmHWM $A_HWM MiB; load $(load)"
scorer_start b-scorer --graphstore_shards="$B_TARGETS"
B_SCORER="$ADDR" B_START=$SECS B_HWM=$(vmhwm "${PIDS[-1]}") B_PID_INDEX=$((${#PIDS[@]} - 1))
echo "B: SERVING after $B_START s, VmHWM $B_HWM MiB; load $(load)"
"$CTL" status --graphstore="${B_TARGETS%%,*}" --ingest=none --scorer="$B_SCORER" --graphstore_shards="$B_TARGETS" 2> /dev/null |
  sed -n '/^SHARD/,$p' || true

# compare WHEN: every score of A against B; COMPARED (exit status) and the
# RESULT lines in $WORK/compare-WHEN.
compare() {
  echo
  echo "== every score, A against B, $1"
  set +e
  /usr/bin/python3 "$ROOT/bench/compare_scores.py" --ids="$WORK/ids.txt" --a="$A_SCORER" --b="$B_SCORER" > "$WORK/compare-$1"
  local status=$?
  set -e
  cat "$WORK/compare-$1"
  [[ $status == 0 ]] || COMPARED=$status
  cp "$WORK/compare-$1" "$WORK/out"
  EQUAL[$1]="$(result equal) of $(result compared) entities ($(result differ) differ, $(result one_sided) scored by one side only; largest difference $(result max_difference))"
}
COMPARED=0
declare -A EQUAL
compare "after the first start"

# Each scorer stopped (SIGTERM) and started again on its own copy of the graph.
echo
echo "== the scorers restarted"
for side in a b; do
  pid_index=$([[ $side == a ]] && echo "$A_PID_INDEX" || echo "$B_PID_INDEX")
  kill -TERM "${PIDS[$pid_index]}"
  wait "${PIDS[$pid_index]}" 2> /dev/null || true
  rm -f "$WORK/$side-scorer.ports"
done
scorer_start a-scorer --graphstore="$A_GS"
A_SCORER="$ADDR" A_RESTART=$SECS
scorer_start b-scorer --graphstore_shards="$B_TARGETS"
B_SCORER="$ADDR" B_RESTART=$SECS
echo "A: SERVING after $A_RESTART s; B: after $B_RESTART s; load $(load)"
compare "after a restart"

echo
echo "== results ($ENTITIES entities, $EDGES edges; load at end $(load))"
printf '| %-16s | %-8s | %-20s | %-9s | %s |\n' side "import s" "first start s" "VmHWM MiB" "restart s"
printf '| %-16s | %-8s | %-20s | %-9s | %s |\n' --- --- --- --- ---
printf '| %-16s | %-8s | %-20s | %-9s | %s |\n' "A: 1 graphstore" "$A_IMPORT" "$A_START" "$A_HWM" "$A_RESTART"
printf '| %-16s | %-8s | %-20s | %-9s | %s |\n' "B: 3 shards" "$B_IMPORT" "$B_START" "$B_HWM" "$B_RESTART"
echo "scores byte-equal after the first start: ${EQUAL[after the first start]}"
echo "scores byte-equal after a restart:       ${EQUAL[after a restart]}"
exit "$COMPARED"
