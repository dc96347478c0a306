#!/usr/bin/env bash
# deploy/local/georisk-local up --graphstore_shards 3: three graphstore shards
# on free ports under an even partition map, each SERVING and refusing ids of
# another shard's partitions; status lists every shard; up again is
# idempotent (the count is remembered); down stops each cleanly; a later up
# with a map that would orphan a shard's partitions is refused by that shard.
set -euo pipefail
root="$TEST_SRCDIR/$TEST_WORKSPACE"
launcher="$root/deploy/local/georisk-local"
ctl="$root/services/georiskctl/georiskctl"
dir=$(mktemp -d "${TEST_TMPDIR:-/tmp}/launcher.XXXXXX")
cleanup() { "$launcher" down --dir "$dir" --bin "$root" >/dev/null 2>&1 || true; }
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

out=$("$launcher" up --dir "$dir" --bin "$root" --port-base 0 --graphstore_shards 3)
echo "$out"
ranges=(0-341 342-682 683-1023)
for i in 0 1 2; do
  grep -q "^graphstore-$i started" <<<"$out" || fail "graphstore-$i did not start"
  grep -Eq "^graphstore-$i +127\.0\.0\.1:[0-9]+ +SERVING +${ranges[$i]}$" <<<"$out" ||
    fail "graphstore-$i not SERVING ${ranges[$i]}"
  grep -q "^graphstore-$i = ${ranges[$i]}$" "$dir/run/partition_map.txt" ||
    fail "map line of graphstore-$i"
done
grep -Eq "^(ingest|scorer) started" <<<"$out" && fail "ingest or scorer started with 3 shards"
shard() { sed -n "s/^GEORISK_GRAPHSTORE_$1=//p" "$dir/run/endpoints.env"; }
[ -n "$(shard 2)" ] || fail "no endpoints of the shards"

# company/tsmc is in partition 201 (docs/scale-out.md): shard 0's.
refused=$("$ctl" links company/tsmc --graphstore="$(shard 1)" 2>&1) && fail "shard 1 served company/tsmc"
echo "$refused"
grep -q "FAILED_PRECONDITION: entity_id: company/tsmc is in partition 201, owned by shard graphstore-0, not by this shard (graphstore-1)" \
  <<<"$refused" || fail "shard 1's refusal does not name the owner"
"$ctl" links company/tsmc --graphstore="$(shard 0)" >/dev/null || fail "shard 0 refused its own entity"

again=$("$launcher" up --dir "$dir" --bin "$root" --port-base 0)
for i in 0 1 2; do
  grep -q "^graphstore-$i already running" <<<"$again" || fail "second up restarted graphstore-$i"
done

"$launcher" status --dir "$dir" --bin "$root" | grep -c ' SERVING ' | grep -qx 3 || fail "status"

down=$("$launcher" down --dir "$dir" --bin "$root")
echo "$down"
for i in 0 1 2; do
  grep -q "^graphstore-$i stopped cleanly" <<<"$down" || fail "graphstore-$i did not stop cleanly"
done

# Two shards over the same data: shard 1 would lose 342-511 and refuses.
if two=$("$launcher" up --dir "$dir" --bin "$root" --port-base 0 --graphstore_shards 2 2>&1); then
  fail "up with 2 shards over 3 shards' data succeeded"
fi
echo "$two"
grep -q "graphstore-1 exited at start" <<<"$two" || fail "graphstore-1 did not refuse"
grep -q "would orphan partitions 342-511" "$dir/logs/graphstore-1.log" ||
  fail "graphstore-1's refusal does not name the orphaned partitions"
"$launcher" down --dir "$dir" --bin "$root" >/dev/null || fail "down after the refusal"
echo PASS
