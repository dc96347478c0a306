#!/usr/bin/env bash
# bench/ingest_run.sh: the ingest benchmark of issue 4, in one run, on one disk.
#
#   bench/ingest_run.sh            # 1M records, 3 rounds (about 6 min)
#   bench/ingest_run.sh --quick    # 100k records, 1 round, while iterating
#   bench/ingest_run.sh --check    # also exit 2 when the 0.7x target is missed
#                                  # (by the first --resolution mode)
#   BENCH_DIR=/mnt/ssd bench/ingest_run.sh   # the scratch directory's parent
#   bench/ingest_run.sh --resolution=on,off  # import-time resolution's cost
#   bench/ingest_run.sh --quick --rounds=3   # the sizes, chosen: --records=N
#   INGEST_FLAGS="--batch_size=2000" IMPORT_FLAGS="--records_per_message=1000" \
#     bench/ingest_run.sh          # end to end with other settings
#
# Builds with `bazel build -c opt //bench:ingest_bench //services/graphstore
# //services/ingest //services/georiskctl` (--prebuilt=DIR skips the build
# and takes the four binaries from DIR), copies the binaries into a fresh
# directory under $BENCH_DIR (default /tmp), generates a deterministic georisk
# JSON Lines file there (40% entities, then 55% SUPPLIES edges between them
# with 5% signals among them), and for each round, with a fresh
# `graphstore --sync=false` each time:
#   (a) direct Apply: the file, parsed beforehand, sent as GraphStore.Apply
#       calls of 1,000 records in file order over loopback gRPC;
#   (b) end to end: `georiskctl import FILE` to an `ingest` in front of the
#       graphstore, timed from exec to exit (parsing included); its summary
#       must count every record accepted and none rejected.
# --resolution=MODE[,MODE...] runs (b) once per mode in every round, each on
# a fresh graphstore, in the order given (default: on):
#   on    ingest --resolve_on_import=true (the default): every entity upsert
#         is matched through Resolution.MatchEntities, links are written;
#   off   ingest --resolve_on_import=false; graphstore still keeps its
#         resolution index (--resolution=true, the default);
#   none  also graphstore --resolution=false: no index, no Resolution service.
# Prints the machine, every command, and a table: records/s of both, their
# ratio against the 0.7x target (for each mode), each mode's records/s
# against the first mode's, and where the time went. Removes the
# directory and stops every process at exit, after a failure or a signal too.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,36p' "$0" | sed 's/^# \{0,1\}//'; }

QUICK=0
CHECK=0
PREBUILT=""
RESOLUTION="on"
RECORDS_FLAG="" ROUNDS_FLAG=""
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    --check) CHECK=1 ;;
    --prebuilt=*) PREBUILT="${arg#--prebuilt=}" ;;
    --resolution=*) RESOLUTION="${arg#--resolution=}" ;;
    --records=*) RECORDS_FLAG="${arg#--records=}" ;;
    --rounds=*) ROUNDS_FLAG="${arg#--rounds=}" ;;
    -h | --help) usage; exit 0 ;;
    *) echo "ingest_run.sh: unknown argument $arg" >&2; usage >&2; exit 64 ;;
  esac
done

if [[ $QUICK == 1 ]]; then
  RECORDS=100000 ROUNDS=1
else
  RECORDS=1000000 ROUNDS=3
fi
for n in RECORDS_FLAG ROUNDS_FLAG; do
  if [[ -n ${!n} && ! ${!n} =~ ^[1-9][0-9]*$ ]]; then
    name=${n%_FLAG}
    echo "ingest_run.sh: --${name,,}: \"${!n}\" is not a positive integer" >&2
    exit 64
  fi
done
RECORDS=${RECORDS_FLAG:-$RECORDS} ROUNDS=${ROUNDS_FLAG:-$ROUNDS}
BATCH=1000
TARGET=0.7 # end-to-end records/s >= TARGET * direct Apply records/s (issue 4)
GRAPHSTORE_FLAGS="--sync=false"
INGEST_FLAGS="${INGEST_FLAGS:-}"
IMPORT_FLAGS="${IMPORT_FLAGS:-}"

IFS=, read -r -a MODES <<< "$RESOLUTION"
[[ ${#MODES[@]} -gt 0 ]] || { echo "ingest_run.sh: --resolution: give on, off or none" >&2; exit 64; }
for mode in "${MODES[@]}"; do
  case "$mode" in
    on | off | none) ;;
    *) echo "ingest_run.sh: --resolution: \"$mode\" is not on, off or none" >&2; exit 64 ;;
  esac
done
# The end-to-end import's graphstore and ingest flags in `mode`.
mode_graphstore_flags() {
  if [[ $1 == none ]]; then echo "$GRAPHSTORE_FLAGS --resolution=false"; else echo "$GRAPHSTORE_FLAGS"; fi
}
mode_ingest_flags() {
  local resolve=true
  [[ $1 == on ]] || resolve=false
  echo "${INGEST_FLAGS:+$INGEST_FLAGS }--resolve_on_import=$resolve"
}

cd "$(dirname "$0")/.."

if [[ -z "$PREBUILT" ]]; then
  echo "== build: bazel build -c opt //bench:ingest_bench //services/graphstore //services/ingest //services/georiskctl"
  bazel build -c opt //bench:ingest_bench //services/graphstore //services/ingest //services/georiskctl
  BIN_DIR="$(bazel info -c opt bazel-bin 2> /dev/null)"
  BINARIES=("$BIN_DIR/bench/ingest_bench" "$BIN_DIR/services/graphstore/graphstore"
    "$BIN_DIR/services/ingest/ingest" "$BIN_DIR/services/georiskctl/georiskctl")
else
  echo "== prebuilt binaries from $PREBUILT (no build)"
  BINARIES=("$PREBUILT/ingest_bench" "$PREBUILT/graphstore" "$PREBUILT/ingest" "$PREBUILT/georiskctl")
fi

bench_make_work georisk-ingest-bench

# Private copies: a concurrent build must not swap a binary mid-run.
mkdir -p "$WORK/bin"
cp "${BINARIES[@]}" "$WORK/bin/"
BENCH="$WORK/bin/ingest_bench"
FILE="$WORK/records.jsonl"

# Runs a command in the background (so a signal can stop it), its stderr to
# $WORK/err (shown on failure) and its stdout to $WORK/out.
run() {
  echo "\$ $*" | sed "s#$WORK#\$WORK#g"
  "$@" > "$WORK/out" 2> "$WORK/err" &
  CHILD=$!
  if ! wait "$CHILD"; then
    CHILD=""
    echo "ingest_run.sh: FAILED: $*" >&2
    cat "$WORK/out" "$WORK/err" >&2
    exit 1
  fi
  CHILD=""
}

# The processes the bench binary started, as it printed them.
commands() { sed -n 's/^\[ingest_bench\] \(\$ .*\)/  \1/p' "$WORK/err" | sed "s#$WORK#\$WORK#g"; }

div() { awk -v a="$1" -v b="$2" -v d="${3:-3}" 'BEGIN {printf "%.*f", d, a / b}'; }

echo
echo "== machine"
echo "date:        $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "nproc:       $(nproc)"
echo "memory:      $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
echo "cpu:         $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "kernel:      $(uname -r)"
echo "bench dir:   $WORK"
echo "filesystem:  $(df -T "$WORK" | awk 'NR==2 {print $1, $2}'); $(findmnt -no OPTIONS -T "$WORK" 2> /dev/null || true)"
echo "load:        $(load) (1/5/15 min) at start"
echo "mode:        $([[ $QUICK == 1 ]] && echo quick || echo full)$([[ -n $RECORDS_FLAG$ROUNDS_FLAG ]] && echo ", sizes chosen"): $RECORDS records, $ROUNDS round(s)"
echo "graphstore:  $GRAPHSTORE_FLAGS (fresh --data_dir each time)"
echo "ingest:      ${INGEST_FLAGS:-(defaults)}"
echo "resolution:  ${MODES[*]} (end to end: $(for m in "${MODES[@]}"; do printf '%s: graphstore %s, ingest %s; ' "$m" "$(mode_graphstore_flags "$m")" "$(mode_ingest_flags "$m")"; done))"
echo "import:      ${IMPORT_FLAGS:-(defaults)}"

echo
echo "== generate: $RECORDS records"
run "$BENCH" --mode=generate --records="$RECORDS" --out="$FILE"
echo "$(result generated_entities) entities, $(result generated_edges) SUPPLIES edges, $(result generated_signals) signals; $(fmt "$(awk -v b="$(result generated_bytes)" 'BEGIN {print b / 1e6}')" 1) MB"

DIRECT=() LOADS=()
declare -A E2E=() RATIOS=() AGAINST=()
for round in $(seq 1 "$ROUNDS"); do
  echo
  echo "== round $round"
  mkdir -p "$WORK/apply"
  run "$BENCH" --mode=apply --file="$FILE" --graphstore="$WORK/bin/graphstore" \
    --graphstore_flags="$GRAPHSTORE_FLAGS" --dir="$WORK/apply" --batch="$BATCH"
  commands
  DIRECT+=("$(result apply_records_per_s)")
  A_S=$(result apply_seconds) A_GS=$(result apply_graphstore_apply_seconds)
  A_CPU=$(result apply_graphstore_cpu_seconds)
  echo "direct Apply: $(fmt "${DIRECT[-1]}") records/s ($(fmt "$A_S" 1) s; call p50 $(fmt "$(result apply_call_p50_ms)" 1) ms, p99 $(fmt "$(result apply_call_p99_ms)" 1) ms; graphstore inside Apply $(fmt "$A_GS" 1) s, CPU $(fmt "$A_CPU" 1) s); load $(load)"
  rm -rf "$WORK/apply"

  for mode in "${MODES[@]}"; do
    mkdir -p "$WORK/import"
    echo "-- end to end, resolution $mode"
    run "$BENCH" --mode=import --file="$FILE" --graphstore="$WORK/bin/graphstore" \
      --ingest="$WORK/bin/ingest" --georiskctl="$WORK/bin/georiskctl" \
      --graphstore_flags="$(mode_graphstore_flags "$mode")" --ingest_flags="$(mode_ingest_flags "$mode")" \
      --import_flags="$IMPORT_FLAGS" --dir="$WORK/import"
    commands
    sed -n '/^files:/,$p' "$WORK/err" | sed 's/^/  georiskctl: /'
    V=$(result import_records_per_s)
    E2E[$mode]="${E2E[$mode]:-} $V"
    I_S=$(result import_seconds) I_GS=$(result import_graphstore_apply_seconds)
    I_IN=$(result import_ingest_apply_seconds) I_CALLS=$(result import_ingest_apply_calls)
    I_CPU_GS=$(result import_graphstore_cpu_seconds) I_CPU_IN=$(result import_ingest_cpu_seconds)
    I_CPU_CLI=$(result import_cli_cpu_seconds)
    LAST_MODE=$mode
    LOADS+=("$(load | cut -d' ' -f1)")
    echo "end to end:   $(fmt "$V") records/s ($(fmt "$I_S" 1) s; graphstore inside Apply $(fmt "$I_GS" 1) s, ingest waiting on Apply $(fmt "$I_IN" 1) s over $(fmt "$I_CALLS") calls; CPU: georiskctl $(fmt "$I_CPU_CLI" 1) s, ingest $(fmt "$I_CPU_IN" 1) s, graphstore $(fmt "$I_CPU_GS" 1) s); load $(load)"
    R=$(div "$V" "${DIRECT[-1]}")
    RATIOS[$mode]="${RATIOS[$mode]:-} $R"
    echo "ratio:        $R"
    if [[ $mode != "${MODES[0]}" ]]; then
      FIRST=$(echo "${E2E[${MODES[0]}]}" | awk '{print $NF}')
      AGAINST[$mode]="${AGAINST[$mode]:-} $(div "$V" "$FIRST")"
      echo "against ${MODES[0]}: $(echo "${AGAINST[$mode]}" | awk '{print $NF}')"
    fi
    rm -rf "$WORK/import"
  done
done
DIRECT_M=$(echo "${DIRECT[*]}" | median)
met() { awk -v r="$1" -v t="$TARGET" 'BEGIN {print (r >= t) ? "MET" : "MISSED"}'; }
us() { awk -v s="$1" -v n="$RECORDS" 'BEGIN {printf "%.1f", s * 1e6 / n}'; }
row() { printf '| %-40s | %-26s | %s |\n' "$@"; }

echo
echo "== results ($([[ $QUICK == 1 ]] && echo quick || echo full) run: $RECORDS records; medians of $ROUNDS round(s); ratio: median of the per-round ratios)"
echo "direct:     ingest_bench --mode=apply: GraphStore.Apply, $BATCH records a call, one call at a time, loopback gRPC, graphstore $GRAPHSTORE_FLAGS"
for mode in "${MODES[@]}"; do
  echo "end to end ($mode): georiskctl import --format=jsonl --progress=none ${IMPORT_FLAGS} FILE -> ingest $(mode_ingest_flags "$mode") -> graphstore $(mode_graphstore_flags "$mode")"
done
echo
row "measure" "records/s" "notes"
row "---" "---" "---"
row "direct GraphStore.Apply" "$(fmt "$DIRECT_M")" "by round: $(printf '%.0f ' "${DIRECT[@]}")"
RATIO_M=""
for mode in "${MODES[@]}"; do
  # shellcheck disable=SC2086 # word splitting of the per-round values is meant
  row "end to end, resolution $mode" "$(fmt "$(echo "${E2E[$mode]}" | median)")" "by round: $(printf '%.0f ' ${E2E[$mode]})"
  M=$(echo "${RATIOS[$mode]}" | median)
  [[ -n $RATIO_M ]] || RATIO_M=$M
  row "  ratio to direct (target >= $TARGET)" "$M: $(met "$M")" "by round:${RATIOS[$mode]}"
  if [[ $mode != "${MODES[0]}" ]]; then
    row "  x resolution ${MODES[0]}'s records/s" "$(echo "${AGAINST[$mode]}" | median)" "by round:${AGAINST[$mode]}"
  fi
done
echo
echo "last round, per record (end to end: resolution $LAST_MODE): direct: graphstore CPU $(us "$A_CPU") us, inside Apply $(us "$A_GS") us, wall $(us "$A_S") us"
echo "    end to end: wall $(us "$I_S") us; graphstore inside Apply $(us "$I_GS") us (busy $(div "$I_GS" "$I_S" 2) of the wall time); CPU: georiskctl $(us "$I_CPU_CLI") us, ingest $(us "$I_CPU_IN") us, graphstore $(us "$I_CPU_GS") us"
echo "1-minute load after each end-to-end run: ${LOADS[*]}; load at end: $(load)"

if [[ $CHECK == 1 && $(met "$RATIO_M") != MET ]]; then
  echo "ingest_run.sh: target missed (ratio $RATIO_M < $TARGET)" >&2
  exit 2
fi
