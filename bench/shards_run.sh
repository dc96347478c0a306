#!/usr/bin/env bash
# bench/shards_run.sh: import of the bench graph through ingest into 1 and
# into 3 graphstore shards on loopback, in one run (issue 17, "Benchmarks").
#
#   bench/shards_run.sh            # 1M entities / 5M edges (+5% signals), 1 round
#   bench/shards_run.sh --quick    # 100k / 500k
#   bench/shards_run.sh --prebuilt=DIR   # the four binaries from DIR, no build
#
# Builds with `bazel build -c opt //bench:ingest_bench //services/graphstore
# //services/ingest //services/georiskctl`, copies the binaries into a fresh
# directory under $BENCH_DIR (default /tmp), generates the graph as JSON Lines
# (ingest_bench --mode=generate --entities --edges), then, each on fresh
# `graphstore --sync=false` data:
#   (a) direct GraphStore.Apply of the file, 1,000 records a call (reference);
#   (b) georiskctl import -> ingest -> 1 graphstore;
#   (c) georiskctl import -> ingest --graphstore_shards -> 3 shards under the
#       even partition map.
# ingest runs --resolve_on_import=false in (b) and (c): imports into shards
# are not resolved, so (b) is the same work. Prints records/s side by side
# and each shard's share of the records, its CPU and time inside Apply.
# Removes the directory and stops every process at exit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; }

bench_take_prebuilt "$@"
bench_parse_args "${ARGS[@]+"${ARGS[@]}"}"
if [[ $QUICK == 1 ]]; then ENTITIES=100000 EDGES=500000; else ENTITIES=1000000 EDGES=5000000; fi
SHARDS=3
INGEST_FLAGS="--resolve_on_import=false"

cd "$(dirname "$0")/.."
if [[ -z "$PREBUILT" ]]; then
  bazel build -c opt //bench:ingest_bench //services/graphstore //services/ingest //services/georiskctl
  B="$(bazel info -c opt bazel-bin 2> /dev/null)"
  BINARIES=("$B/bench/ingest_bench" "$B/services/graphstore/graphstore" "$B/services/ingest/ingest" "$B/services/georiskctl/georiskctl")
else
  BINARIES=("$PREBUILT/ingest_bench" "$PREBUILT/graphstore" "$PREBUILT/ingest" "$PREBUILT/georiskctl")
fi
bench_make_work georisk-shards-bench
mkdir -p "$WORK/bin"
cp "${BINARIES[@]}" "$WORK/bin/"
BENCH="$WORK/bin/ingest_bench"
FILE="$WORK/records.jsonl"

echo "== machine"
echo "date:   $(date -u '+%Y-%m-%d %H:%M:%S UTC'); nproc $(nproc); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "disk:   $(df -T "$WORK" | awk 'NR==2 {print $1, $2}')"
echo "load:   $(load) at start; $ENTITIES entities, $EDGES edges"

run "$BENCH" --mode=generate --entities="$ENTITIES" --edges="$EDGES" --out="$FILE"
RECORDS=$(result generated_records)
echo "$(fmt "$RECORDS") records: $(result generated_entities) entities, $(result generated_edges) edges, $(result generated_signals) signals"

mkdir -p "$WORK/apply"
run "$BENCH" --mode=apply --file="$FILE" --graphstore="$WORK/bin/graphstore" --dir="$WORK/apply" --batch=1000
DIRECT=$(result apply_records_per_s) DIRECT_CPU=$(result apply_graphstore_cpu_seconds)
echo "direct Apply: $(fmt "$DIRECT") records/s; graphstore CPU $(fmt "$DIRECT_CPU" 1) s; load $(load)"
rm -rf "$WORK/apply"

declare -A RATE CPU_GS CPU_IN CPU_CLI SECS
for n in 1 "$SHARDS"; do
  mkdir -p "$WORK/import"
  run "$BENCH" --mode=import --shards="$n" --file="$FILE" --graphstore="$WORK/bin/graphstore" \
    --ingest="$WORK/bin/ingest" --georiskctl="$WORK/bin/georiskctl" \
    --ingest_flags="$INGEST_FLAGS" --dir="$WORK/import"
  RATE[$n]=$(result import_records_per_s) SECS[$n]=$(result import_seconds)
  CPU_GS[$n]=$(result import_graphstore_cpu_seconds) CPU_IN[$n]=$(result import_ingest_cpu_seconds)
  CPU_CLI[$n]=$(result import_cli_cpu_seconds)
  echo "import into $n shard(s): $(fmt "${RATE[$n]}") records/s ($(fmt "${SECS[$n]}" 1) s; CPU: georiskctl $(fmt "${CPU_CLI[$n]}" 1) s, ingest $(fmt "${CPU_IN[$n]}" 1) s, graphstore(s) $(fmt "${CPU_GS[$n]}" 1) s); load $(load)"
  if [[ $n != 1 ]]; then
    for ((i = 0; i < n; i++)); do
      echo "  shard $i: $(fmt "$(result "import_shard${i}_records")") records held, CPU $(fmt "$(result "import_shard${i}_cpu_seconds")" 1) s, inside Apply $(fmt "$(result "import_shard${i}_apply_seconds")" 1) s over $(fmt "$(result "import_shard${i}_apply_calls")") calls"
    done
  fi
  rm -rf "$WORK/import"
done

per() { awk -v c="$1" -v n="$RECORDS" 'BEGIN {printf "%.1f", c * 1e6 / n}'; }
echo
echo "== results ($RECORDS records; one round; load at end $(load))"
printf '| %-34s | %-10s | %s |\n' measure records/s "CPU us/record (georiskctl / ingest / graphstores)"
printf '| %-34s | %-10s | %s |\n' --- --- ---
printf '| %-34s | %-10s | %s |\n' "direct GraphStore.Apply (1 store)" "$(fmt "$DIRECT")" "- / - / $(per "$DIRECT_CPU")"
for n in 1 "$SHARDS"; do
  printf '| %-34s | %-10s | %s |\n' "import through ingest, $n shard(s)" "$(fmt "${RATE[$n]}")" \
    "$(per "${CPU_CLI[$n]}") / $(per "${CPU_IN[$n]}") / $(per "${CPU_GS[$n]}")"
done
echo "3 shards / 1 shard: $(awk -v a="${RATE[$SHARDS]}" -v b="${RATE[1]}" 'BEGIN {printf "%.2f", a / b}')x (2 cores shared by every process)"
