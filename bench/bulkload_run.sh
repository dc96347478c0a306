#!/usr/bin/env bash
# bench/bulkload_run.sh: the bulk load of issue 20 beside RocksDB's own
# db_bench fillbatch, in one run, on one disk.
#
#   bench/bulkload_run.sh           # 1M entities / 5M edges, 3 rounds
#   bench/bulkload_run.sh --quick   # 100k / 500k, one round
#   bench/bulkload_run.sh --check   # also exit 2 when the target is missed
#
# Builds with `bazel build -c opt //bench:graphstore_bench`, then in a fresh
# directory under $BENCH_DIR (default /tmp), removed at the end, each round:
#   1. graphstore_bench --mode=bulkload: the skewed supply graph of run.sh
#      (--mode=graph), built in memory, loaded into an empty store through
#      storage::BulkLoader (SST files, IngestExternalFiles), timed from
#      Start to the end of Finish, its counts checked after a reopen;
#   2. db_bench --benchmarks=fillbatch with as many keys as the load wrote,
#      of the load's mean key and value sizes (WAL on, no sync, 16 MiB
#      memtables, Snappy, 2 background jobs: run.sh's settings).
# Target: bulk load keys/s >= 1.0 x fillbatch keys/s (median of the
# per-round ratios). Prints the machine, the load, every command and a
# table.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; }

bench_parse_args "$@"

if [[ $QUICK == 1 ]]; then
  ENTITIES=100000 EDGES=500000 ROUNDS=1
else
  ENTITIES=1000000 EDGES=5000000 ROUNDS=3
fi
TARGET=1.0

cd "$(dirname "$0")/.."
command -v db_bench > /dev/null || {
  echo "bulkload_run.sh: db_bench not found: apt-get install -y rocksdb-tools" >&2
  exit 1
}

echo "== build: bazel build -c opt //bench:graphstore_bench"
bazel build -c opt //bench:graphstore_bench
BIN_DIR="$(bazel info -c opt bazel-bin 2> /dev/null)"
bench_make_work georisk-bulkload
mkdir -p "$WORK/bin"
cp "$BIN_DIR/bench/graphstore_bench" "$WORK/bin/"
BENCH="$WORK/bin/graphstore_bench"

echo
echo "== machine"
echo "date:        $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "nproc:       $(nproc)"
echo "memory:      $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
echo "cpu:         $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "filesystem:  $(df -T "$WORK" | awk 'NR==2 {print $1, $2}')"
echo "rocksdb:     $(dpkg-query -W -f '${Version}' librocksdb-dev 2> /dev/null || echo '?')"
echo "load:        $(load) (1/5/15 min) at start"

BULK=() FILL=() RATIO=() CPU=()
for round in $(seq 1 "$ROUNDS"); do
  echo "-- round $round (load $(load))"
  mkdir -p "$WORK/bulk"
  run "$BENCH" --mode=bulkload --dir="$WORK/bulk" --entities="$ENTITIES" \
    --edges="$EDGES"
  KEYS=$(result bulkload_keys)
  KEY_BYTES=$(fmt "$(result bulkload_key_bytes)")
  VALUE_BYTES=$(fmt "$(result bulkload_value_bytes)")
  BULK+=("$(result bulkload_keys_per_s)")
  CPU+=("$(result bulkload_process_cpu_s)")
  echo "bulk load: $(fmt "$KEYS") keys (key $KEY_BYTES, value $VALUE_BYTES bytes) in $(fmt "$(result bulkload_seconds)" 1) s" \
    "= $(fmt "${BULK[-1]}") keys/s; tables $(fmt "$(result bulkload_write_s)" 1) s after adding $(fmt "$(result bulkload_add_s)" 1) s," \
    "ingestion $(fmt "$(result bulkload_ingest_s)" 2) s; process CPU $(fmt "${CPU[-1]}" 1) s; $(fmt "$(result bulkload_file_mib)") MiB of tables"
  rm -rf "$WORK/bulk"
  DB_BENCH=(db_bench --benchmarks=fillbatch --num="$KEYS" --key_size="$KEY_BYTES"
    --value_size="$VALUE_BYTES" --sync=0 --disable_wal=0 --threads=1
    --compression_type=snappy --write_buffer_size=16777216
    --max_background_jobs=2 --progress_reports=false
    --db="$WORK/db_bench/db" --wal_dir="$WORK/db_bench/db")
  mkdir -p "$WORK/db_bench"
  run "${DB_BENCH[@]}"
  ops=$(awk '$1 == "fillbatch" {for (i = 1; i < NF; i++) if ($(i + 1) == "ops/sec") print $i}' "$WORK/out")
  grep "^fillbatch" "$WORK/out" || true
  [[ -n "$ops" ]] || { echo "bulkload_run.sh: no fillbatch figure" >&2; exit 1; }
  FILL+=("$ops")
  RATIO+=("$(awk -v b="${BULK[-1]}" -v f="$ops" 'BEGIN {printf "%.3f", b / f}')")
  rm -rf "$WORK/db_bench"
done
R=$(echo "${RATIO[*]}" | median)
MET=$(awk -v r="$R" -v t="$TARGET" 'BEGIN {print (r >= t) ? "MET" : "MISSED"}')

echo
echo "== results ($ENTITIES entities, $EDGES edges; medians of $ROUNDS round(s))"
echo "db_bench: ${DB_BENCH[*]}" | sed "s#$WORK#\$WORK#g"
printf '| %-30s | %-28s | %-34s | %s |\n' "measure" "georisk" "reference (same run, same disk)" "target / result"
printf '| %-30s | %-28s | %-34s | %s |\n' "---" "---" "---" "---"
printf '| %-30s | %-28s | %-34s | %s |\n' "bulk load, keys/s" \
  "$(fmt "$(echo "${BULK[*]}" | median)") keys/s (CPU $(fmt "$(echo "${CPU[*]}" | median)" 1) s)" \
  "fillbatch $(fmt "$(echo "${FILL[*]}" | median)") keys/s" \
  "ratio $R (rounds: ${RATIO[*]}), target >= $TARGET: $MET"
echo "load at end: $(load)"
if [[ $CHECK == 1 && $MET != MET ]]; then
  echo "bulkload_run.sh: bulk load target missed (ratio $R < $TARGET)" >&2
  exit 2
fi
