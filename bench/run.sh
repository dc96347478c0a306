#!/usr/bin/env bash
# bench/run.sh: the graphstore benchmarks of issue 3, in one run, on one disk.
#
#   bench/run.sh            # full size: 1M entities / 5M edges (8-12 min)
#   bench/run.sh --quick    # small graph, one round, while iterating
#   bench/run.sh --check    # also exit 2 when an Apply target is missed
#
# Builds with `bazel build -c opt //bench/... //services/graphstore`, then in
# a fresh directory under $BENCH_DIR (default /tmp), removed at the end:
#   1. Apply throughput (batches of 1,000 SUPPLIES edges, WAL on, sync off)
#      through the library and through gRPC to `graphstore --sync=false`,
#      beside RocksDB's `db_bench --benchmarks=fillbatch` (the issue's
#      reference: sequential keys) and `fillrandom --batch_size=1000` (random
#      keys, as our hashed keys are), with keys and values of our size,
#      alternating, for several rounds (medians reported);
#   2. a 1M-entity, 5M-edge skewed supply graph built through the library,
#      served by the graphstore binary: ListEdges of the 1,000-neighbour
#      entity and 3-hop Traverse, p50/p99 over loopback gRPC;
#   3. restart time to SERVING on that graph (SIGTERM, exec, health check);
#   4. LookupByIdentifier of random LEIs among as many entities as the
#      graph's entities, beside a scan of every entity for the same LEI (what
#      a client without the index must do), and Open building the index for
#      a database written without it.
# Prints the machine, every command, and a table beside the references.
# Exits non-zero if a build or a measurement fails.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; }

bench_parse_args "$@"

if [[ $QUICK == 1 ]]; then
  APPLY_ENTITIES=20000 APPLY_EDGES=200000 ROUNDS=1
  GRAPH_ENTITIES=100000 GRAPH_EDGES=500000 QUERIES=100 RESTARTS=3
else
  APPLY_ENTITIES=100000 APPLY_EDGES=1000000 ROUNDS=3
  GRAPH_ENTITIES=1000000 GRAPH_EDGES=5000000 QUERIES=300 RESTARTS=5
fi
BATCH=1000
TARGET=0.3 # edges/s >= TARGET * fillbatch ops/s / 3 (issue 3)
RANDOM_TARGET=0.9 # edges/s >= RANDOM_TARGET * fillrandom ops/s / 3 (issue 20)
# The bulk load's target (1.0x fillbatch keys/s) is bench/bulkload_run.sh's.

cd "$(dirname "$0")/.."
command -v db_bench > /dev/null || {
  echo "run.sh: db_bench not found: apt-get install -y rocksdb-tools" >&2
  exit 1
}

echo "== build: bazel build -c opt //bench/... //services/graphstore"
bazel build -c opt //bench/... //services/graphstore
BIN_DIR="$(bazel info -c opt bazel-bin 2> /dev/null)"

bench_make_work georisk-bench

# Private copies: a concurrent build must not swap a binary mid-run.
mkdir -p "$WORK/bin"
cp "$BIN_DIR/bench/graphstore_bench" "$BIN_DIR/services/graphstore/graphstore" \
  "$WORK/bin/"
BENCH="$WORK/bin/graphstore_bench"
GRAPHSTORE="$WORK/bin/graphstore"

spread() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{v[NR]=$1} END {printf "%.0f-%.0f", v[1], v[NR]}'; }

echo
echo "== machine"
echo "date:        $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "nproc:       $(nproc)"
echo "memory:      $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
echo "cpu:         $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "kernel:      $(uname -r)"
echo "bench dir:   $WORK"
echo "filesystem:  $(df -T "$WORK" | awk 'NR==2 {print $1, $2, "size " $3 "K, avail " $5 "K"}'); $(findmnt -no OPTIONS -T "$WORK" 2> /dev/null || true)"
echo "rocksdb:     $(dpkg-query -W -f '${Version}' librocksdb-dev 2> /dev/null || echo '?') (db_bench $(command -v db_bench))"
echo "load:        $(load) (1/5/15 min) at start"
echo "mode:        $([[ $QUICK == 1 ]] && echo quick || echo full)"

echo
echo "== 1. Apply throughput: $APPLY_EDGES edges in batches of $BATCH, $APPLY_ENTITIES entities, $ROUNDS round(s)"
run "$BENCH" --mode=sizes --entities="$APPLY_ENTITIES" --batch="$BATCH"
KEY_BYTES=$(fmt "$(result edge_key_bytes)")
VALUE_BYTES=$(fmt "$(result edge_value_bytes)")
echo "encoded edge: key $KEY_BYTES bytes, value $VALUE_BYTES bytes (out and in copies; the change log holds the value once more)"
DB_BENCH_NUM=$((3 * APPLY_EDGES))

LIB=() GRPC=() FILL=() RAND=() LIB_CPU=() LIB_PROC_CPU=()
for round in $(seq 1 "$ROUNDS"); do
  echo "-- round $round"
  mkdir -p "$WORK/apply"
  run "$BENCH" --mode=apply --transport=library --dir="$WORK/apply" \
    --entities="$APPLY_ENTITIES" --edges="$APPLY_EDGES" --batch="$BATCH"
  LIB+=("$(result apply_library_edges_per_s)")
  LIB_P50=$(result apply_library_batch_p50_ms) LIB_P99=$(result apply_library_batch_p99_ms)
  LIB_CPU+=("$(result apply_library_commit_thread_cpu_us_per_edge)")
  LIB_PROC_CPU+=("$(result apply_library_process_cpu_us_per_edge)")
  echo "library: $(fmt "${LIB[-1]}") edges/s (batch p50 $(fmt "$LIB_P50" 1) ms, p99 $(fmt "$LIB_P99" 1) ms;" \
    "CPU per edge: commit thread $(fmt "${LIB_CPU[-1]}" 2) us, process $(fmt "${LIB_PROC_CPU[-1]}" 2) us)"
  rm -rf "$WORK/apply"

  mkdir -p "$WORK/apply"
  run "$BENCH" --mode=apply --transport=grpc --graphstore="$GRAPHSTORE" \
    --dir="$WORK/apply" --entities="$APPLY_ENTITIES" --edges="$APPLY_EDGES" \
    --batch="$BATCH"
  GRPC+=("$(result apply_grpc_edges_per_s)")
  GRPC_P50=$(result apply_grpc_batch_p50_ms) GRPC_P99=$(result apply_grpc_batch_p99_ms)
  echo "grpc:    $(fmt "${GRPC[-1]}") edges/s (batch p50 $(fmt "$GRPC_P50" 1) ms, p99 $(fmt "$GRPC_P99" 1) ms)"
  rm -rf "$WORK/apply"

  # RocksDB alone, same disk, same record sizes, same key count as our
  # 3 keys per edge: sequential keys (fillbatch, the issue's reference) and
  # random keys in batches of 1,000 (fillrandom, what hashed keys cost).
  DB_BENCH_COMMON=(--num="$DB_BENCH_NUM" --key_size="$KEY_BYTES"
    --value_size="$VALUE_BYTES" --sync=0 --disable_wal=0 --threads=1
    --compression_type=snappy --write_buffer_size=16777216
    --max_background_jobs=2 --progress_reports=false
    --db="$WORK/db_bench/db" --wal_dir="$WORK/db_bench/db")
  DB_BENCH=(db_bench --benchmarks=fillbatch "${DB_BENCH_COMMON[@]}")
  DB_BENCH_RANDOM=(db_bench --benchmarks=fillrandom --batch_size=1000 "${DB_BENCH_COMMON[@]}")
  for bench in fillbatch fillrandom; do
    mkdir -p "$WORK/db_bench"
    if [[ $bench == fillbatch ]]; then run "${DB_BENCH[@]}"; else run "${DB_BENCH_RANDOM[@]}"; fi
    ops=$(awk -v b="$bench" '$1 == b {for (i = 1; i < NF; i++) if ($(i + 1) == "ops/sec") print $i}' "$WORK/out")
    grep "^$bench" "$WORK/out" || true
    [[ -n "$ops" ]] || { echo "run.sh: no $bench figure" >&2; exit 1; }
    if [[ $bench == fillbatch ]]; then FILL+=("$ops"); else RAND+=("$ops"); fi
    rm -rf "$WORK/db_bench"
  done
done
LIB_M=$(echo "${LIB[*]}" | median)
GRPC_M=$(echo "${GRPC[*]}" | median)
FILL_M=$(echo "${FILL[*]}" | median)
RAND_M=$(echo "${RAND[*]}" | median)

echo
echo "== 2./3. Graph: $GRAPH_ENTITIES entities, $GRAPH_EDGES edges; $QUERIES queries each; $RESTARTS restarts"
mkdir -p "$WORK/graph"
run "$BENCH" --mode=graph --graphstore="$GRAPHSTORE" --dir="$WORK/graph" \
  --entities="$GRAPH_ENTITIES" --edges="$GRAPH_EDGES" --queries="$QUERIES" \
  --restarts="$RESTARTS"
cat "$WORK/out"
G() { result "$1"; }
rm -rf "$WORK/graph"

echo
echo "== 4. Identifier lookup: $GRAPH_ENTITIES entities with an LEI; 1,000 lookups, 3 scans"
mkdir -p "$WORK/lookup"
run "$BENCH" --mode=lookup --dir="$WORK/lookup" --entities="$GRAPH_ENTITIES" \
  --queries=1000 --scans=3
cat "$WORK/out"
L_INDEXED_P50=$(result lookup_indexed_p50_ms) L_INDEXED_P99=$(result lookup_indexed_p99_ms)
L_SCAN_P50=$(result lookup_scan_p50_ms) L_SCAN_MAX=$(result lookup_scan_max_ms)
L_OPEN=$(result lookup_open_ms) L_BUILD=$(result lookup_open_building_index_ms)
rm -rf "$WORK/lookup"

# ---- the table ---------------------------------------------------------------
# ratio = edges/s / (db_bench keys/s / 3): each edge is three RocksDB keys.
# Each round pairs measurements taken within a minute or two, so a busy
# neighbour on the machine slows both sides; the table gives the median of
# the per-round ratios.
ratio() { awk -v e="$1" -v f="$2" 'BEGIN {printf "%.3f", e / (f / 3)}'; }
ratios() { # ratios EDGES_ARRAY_NAME KEYS_ARRAY_NAME
  local -n edges=$1 keys=$2
  for i in "${!edges[@]}"; do ratio "${edges[$i]}" "${keys[$i]}"; echo; done
}
met() { awk -v r="$1" -v t="${2:-$TARGET}" 'BEGIN {print (r >= t) ? "MET" : "MISSED"}'; }
LIB_R=$(ratios LIB FILL | median)
GRPC_R=$(ratios GRPC FILL | median)
LIB_RR=$(ratios LIB RAND | median)
GRPC_RR=$(ratios GRPC RAND | median)
row() { printf '| %-46s | %-30s | %-44s | %s |\n' "$@"; }

echo
echo "== results ($([[ $QUICK == 1 ]] && echo quick || echo full) run; Apply: medians of $ROUNDS round(s), ratios: median of the per-round ratios; one filesystem: $(df -T "$WORK" | awk 'NR==2 {print $1, $2}'))"
echo "db_bench: ${DB_BENCH[*]}" | sed "s#$WORK#\$WORK#g"
echo "db_bench: ${DB_BENCH_RANDOM[*]}" | sed "s#$WORK#\$WORK#g"
echo
row "measure" "georisk" "reference (same run, same disk)" "target / result"
row "---" "---" "---" "---"
row "Apply, library, 1,000-edge batches" "$(fmt "$LIB_M") edges/s" \
  "fillbatch $(fmt "$FILL_M") keys/s = $(fmt "$(awk -v f="$FILL_M" 'BEGIN {print f / 3}')") edges/s" \
  "ratio $LIB_R, target >= $TARGET: $(met "$LIB_R")"
row "Apply, gRPC to graphstore --sync=false" "$(fmt "$GRPC_M") edges/s" "(same)" \
  "ratio $GRPC_R, target >= $TARGET: $(met "$GRPC_R")"
row "Apply vs random-key RocksDB (library / gRPC)" "$(fmt "$LIB_M") / $(fmt "$GRPC_M") edges/s" \
  "fillrandom batch 1000: $(fmt "$RAND_M") keys/s = $(fmt "$(awk -v f="$RAND_M" 'BEGIN {print f / 3}')") edges/s" \
  "ratio $LIB_RR / $GRPC_RR, library target >= $RANDOM_TARGET: $(met "$LIB_RR" "$RANDOM_TARGET")"
row "Apply, library, CPU time per edge" \
  "commit thread $(fmt "$(echo "${LIB_CPU[*]}" | median)" 2) us" \
  "whole process (RocksDB threads too) $(fmt "$(echo "${LIB_PROC_CPU[*]}" | median)" 2) us" \
  "medians; barely moved by other load on the machine"
row "Apply per-round spread (library; gRPC)" "$(echo "${LIB[*]}" | spread); $(echo "${GRPC[*]}" | spread)" \
  "fillbatch $(echo "${FILL[*]}" | spread); fillrandom $(echo "${RAND[*]}" | spread)" \
  "fillbatch ratios by round: library $(ratios LIB FILL | paste -sd' '), gRPC $(ratios GRPC FILL | paste -sd' ')"
row "Graph build, library, 10,000 mutations/Apply" "$(fmt "$(G graph_build_total_s)") s total" \
  "entities $(fmt "$(G graph_build_entities_s)") s; edges $(fmt "$(G graph_build_edges_s)") s = $(fmt "$(awk -v e="$(G graph_edges)" -v s="$(G graph_build_edges_s)" 'BEGIN {print e / s}')") edges/s" \
  "$(G graph_entities) entities, $(G graph_edges) edges; close $(fmt "$(G graph_build_close_s)" 1) s, then $(fmt "$(G graph_sst_mib_at_close)") MiB SST + $(fmt "$(G graph_wal_mib_at_close)") MiB WAL; max out-degree $(G graph_max_out_degree)"
row "ListEdges, 1,000-neighbour entity, all pages" \
  "p50 $(fmt "$(G list_edges_1000_p50_ms)" 2) ms, p99 $(fmt "$(G list_edges_1000_p99_ms)" 2) ms" \
  "$(G list_edges_1000_calls) calls, page_size 1000, loopback gRPC" "max $(fmt "$(G list_edges_1000_max_ms)" 2) ms"
row "Traverse, 3 hops, outbound, default max_entities" \
  "p50 $(fmt "$(G traverse_3hop_p50_ms)" 2) ms, p99 $(fmt "$(G traverse_3hop_p99_ms)" 2) ms" \
  "$(G traverse_3hop_calls) calls; entities reached p50 $(G traverse_3hop_entities_p50), p99 $(G traverse_3hop_entities_p99)" \
  "$(G traverse_3hop_truncated) truncated; max $(fmt "$(G traverse_3hop_max_ms)" 1) ms"
row "Restart to SERVING (SIGTERM, exec, health)" \
  "median $(fmt "$(G restart_to_serving_median_ms)") ms" \
  "$(G restarts) restarts: $(fmt "$(G restart_to_serving_min_ms)")-$(fmt "$(G restart_to_serving_max_ms)") ms; stop $(fmt "$(G stop_median_ms)") ms" \
  "first start after the build: $(fmt "$(G first_start_to_serving_ms)") ms (replays $(fmt "$(G graph_wal_mib_at_close)") MiB of WAL)"
row "LookupByIdentifier, one LEI, library" \
  "p50 $(fmt "$L_INDEXED_P50" 3) ms, p99 $(fmt "$L_INDEXED_P99" 3) ms" \
  "scan of every entity: p50 $(fmt "$L_SCAN_P50") ms, max $(fmt "$L_SCAN_MAX") ms" \
  "$GRAPH_ENTITIES entities; Open $(fmt "$L_OPEN") ms, building the index $(fmt "$L_BUILD") ms"
echo
echo "ratio = georisk edges/s / (db_bench ops/s / 3): each edge is three RocksDB keys (out copy, in copy, change-log share)."
echo "load at end: $(load)"

if [[ $CHECK == 1 && $(met "$LIB_R") != MET ]]; then
  echo "run.sh: Apply target missed (ratio $LIB_R < $TARGET)" >&2
  exit 2
fi
if [[ $CHECK == 1 && $(met "$LIB_RR" "$RANDOM_TARGET") != MET ]]; then
  echo "run.sh: Apply vs fillrandom target missed (ratio $LIB_RR < $RANDOM_TARGET)" >&2
  exit 2
fi
