#!/usr/bin/env bash
# bench/partition_move_run.sh: graphstore_move_partitions on the bench graph
# (docs/scale-out.md, "Adding shards"), in one run, on one disk.
#
#   bench/partition_move_run.sh           # 1M entities / 5M edges
#   bench/partition_move_run.sh --quick   # 100k / 500k
#
# Builds with `bazel build -c opt //bench:graphstore_bench
# //services/graphstore //services/graphstore:graphstore_move_partitions`,
# then in a fresh directory under $BENCH_DIR (default /tmp), removed at the
# end:
#   1. graphstore_bench --mode=bulkload: the skewed supply graph into one
#      shard's data directory (S);
#   2. graphstore started once on S as shard 0 of "0=0-1023;1=" and once on
#      an empty directory as shard 1 (N), as step 1 of the runbook leaves
#      them, each stopped once its port file is written;
#   3. the move of partitions 512-1023 (half the graph) with --dry_run, then
#      for real, each timed as a whole process;
#   4. graphstore started on S and on N under the new map, timed until each
#      serves (the open after a move: N's and S's files as the move left
#      them).
# Prints the machine, the load, every command and a table. No target: the
# figures are for the runbook's maintenance window.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; }

bench_parse_args "$@"
if [[ $QUICK == 1 ]]; then
  ENTITIES=100000 EDGES=500000
else
  ENTITIES=1000000 EDGES=5000000
fi
OLD_MAP="0=0-1023;1="
NEW_MAP="0=0-511;1=512-1023"

cd "$(dirname "$0")/.."
echo "== build"
bazel build -c opt //bench:graphstore_bench //services/graphstore \
  //services/graphstore:graphstore_move_partitions
B="$(bazel info -c opt bazel-bin 2> /dev/null)"
bench_make_work georisk-partition-move
mkdir -p "$WORK/bin"
cp "$B/bench/graphstore_bench" "$B/services/graphstore/graphstore" \
  "$B/services/graphstore/graphstore_move_partitions" "$WORK/bin/"

echo
echo "== machine"
echo "date:        $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "nproc:       $(nproc)"
echo "filesystem:  $(df -T "$WORK" | awk 'NR==2 {print $1, $2}')"
echo "load:        $(load) (1/5/15 min) at start"

# Starts graphstore on data dir $1 under map $2 as shard $3, waits until it
# serves (its port file), stops it; prints the seconds to serving.
open_shard() {
  local dir="$1" map="$2" shard="$3" port_file="$WORK/port"
  rm -f "$port_file"
  local start end
  start=$(date +%s.%N)
  "$WORK/bin/graphstore" --data_dir="$dir" --listen=127.0.0.1:0 \
    --metrics_listen=127.0.0.1:0 --port_file="$port_file" \
    --partition_map="$map" --shard_index="$shard" > "$WORK/gs.log" 2>&1 &
  CHILD=$!
  while [[ ! -s "$port_file" ]]; do
    if ! kill -0 "$CHILD" 2> /dev/null; then
      echo "partition_move_run.sh: graphstore on $dir exited:" >&2
      cat "$WORK/gs.log" >&2
      exit 1
    fi
    sleep 0.05
  done
  end=$(date +%s.%N)
  kill -TERM "$CHILD"
  wait "$CHILD" || true
  CHILD=""
  awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b - a}'
}

# Runs the move with extra flags "$@", timed; its output in $WORK/out.
SECONDS_TAKEN=0
move() {
  local start end
  start=$(date +%s.%N)
  run "$WORK/bin/graphstore_move_partitions" --from_dir="$WORK/s" \
    --to_dir="$WORK/n" --partitions=512-1023 --old_map_file="$WORK/old.txt" \
    --new_map_file="$WORK/new.txt" "$@"
  end=$(date +%s.%N)
  cat "$WORK/out"
  SECONDS_TAKEN=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b - a}')
}

echo
echo "== 1. bulk load: $ENTITIES entities, $EDGES edges into S (load $(load))"
mkdir -p "$WORK/s" "$WORK/n"
run "$WORK/bin/graphstore_bench" --mode=bulkload --dir="$WORK/s" \
  --entities="$ENTITIES" --edges="$EDGES"
rm -rf "$WORK/s/bulkload"
echo "S holds $(du -sh "$WORK/s/graph" | cut -f1)"

echo
echo "== 2. S and N recorded under the old map $OLD_MAP"
echo "S opened in $(open_shard "$WORK/s" "$OLD_MAP" 0) s, N in $(open_shard "$WORK/n" "$OLD_MAP" 1) s"
echo "$OLD_MAP" | tr ';' '\n' > "$WORK/old.txt"
echo "$NEW_MAP" | tr ';' '\n' > "$WORK/new.txt"

echo
echo "== 3. the move of partitions 512-1023 (load $(load))"
move --dry_run
DRY=$SECONDS_TAKEN
move
MOVE=$SECONDS_TAKEN
echo "after: S $(du -sh "$WORK/s/graph" | cut -f1), N $(du -sh "$WORK/n/graph" | cut -f1) (S's deleted range is reclaimed by compaction later)"

echo
echo "== 4. both opened under the new map $NEW_MAP"
OPEN_S=$(open_shard "$WORK/s" "$NEW_MAP" 0)
OPEN_N=$(open_shard "$WORK/n" "$NEW_MAP" 1)

echo
printf '| %-44s | %s |\n' measure seconds
printf '| %-44s | %s |\n' "--dry_run (scan of the range on S and N)" "$DRY"
printf '| %-44s | %s |\n' "move (scan, tables, ingestion, S's delete)" "$MOVE"
printf '| %-44s | %s |\n' "S open under the new map" "$OPEN_S"
printf '| %-44s | %s |\n' "N open under the new map" "$OPEN_N"
echo "load $(load) at the end"
