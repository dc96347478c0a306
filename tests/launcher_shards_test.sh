#!/usr/bin/env bash
# deploy/local/georisk-local up --graphstore_shards 3: three graphstore shards
# on free ports under an even partition map, each delivering its outbox to
# the others, graphstore-0 also the router, ingest routing to them and the
# scorer following every shard. The demo is loaded through ingest; `georiskctl
# status` lists the 3 shards SERVING with their partitions, counts and the
# scorer's feed of each; every outbox drains; the scorer scores entities of
# each shard; a read through the one endpoint finds an entity of each shard,
# while a shard asked directly refuses another's. up again is idempotent.
# kill -9 of one shard: status shows it UNAVAILABLE and the scorer's feed of
# it disconnected, the others SERVING, reads of the others' entities and
# every score go on; up starts it again on its port with its data. down stops
# each cleanly; a later up with a map that would orphan a shard's partitions
# is refused by that shard.
set -euo pipefail
root="$TEST_SRCDIR/$TEST_WORKSPACE"
launcher="$root/deploy/local/georisk-local"
ctl="$root/services/georiskctl/georiskctl"
dir=$(mktemp -d "${TEST_TMPDIR:-/tmp}/launcher.XXXXXX")
cleanup() { "$launcher" down --dir "$dir" --bin "$root" >/dev/null 2>&1 || true; }
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
# georiskctl against what the launcher wrote (no GEORISK_* of the caller's).
ctl_() { env -u GEORISK_GRAPHSTORE -u GEORISK_INGEST -u GEORISK_SCORER \
  -u GEORISK_GRAPHSTORE_SHARDS "$ctl" --endpoints_file="$dir/run/endpoints.env" "$@"; }
endpoint() { sed -n "s/^$1=//p" "$dir/run/endpoints.env"; }
shard() { endpoint "GEORISK_GRAPHSTORE_$1"; }

out=$("$launcher" up --dir "$dir" --bin "$root" --port-base 0 --graphstore_shards 3)
echo "$out"
ranges=(0-341 342-682 683-1023)
for i in 0 1 2; do
  grep -q "^graphstore-$i started" <<<"$out" || fail "graphstore-$i did not start"
  grep -Eq "^graphstore-$i +127\.0\.0\.1:[0-9]+ +SERVING +${ranges[$i]} +0 +0 +0 +0 +0, " <<<"$out" ||
    fail "graphstore-$i not SERVING ${ranges[$i]}, empty"
  grep -q "^graphstore-$i = ${ranges[$i]}$" "$dir/run/partition_map.txt" ||
    fail "map line of graphstore-$i"
done
grep -q "^ingest started" <<<"$out" || fail "ingest did not start"
grep -q "^scorer started" <<<"$out" || fail "the scorer did not start"
grep -Eq "^scorer +127\.0\.0\.1:[0-9]+ +SERVING " <<<"$out" || fail "status does not show the scorer SERVING"
[ -n "$(shard 2)" ] || fail "no endpoints of the shards"
[ "$(endpoint GEORISK_GRAPHSTORE)" = "$(shard 0)" ] || fail "the endpoint is not graphstore-0"
[ "$(endpoint GEORISK_GRAPHSTORE_SHARDS)" = "$(shard 0),$(shard 1),$(shard 2)" ] ||
  fail "GEORISK_GRAPHSTORE_SHARDS"
# graphstore-0 routes to the others; ingest writes to all three.
pid0=$(cat "$dir/run/graphstore-0.pid")
tr '\0' ' ' < "/proc/$pid0/cmdline" | grep -q -- "--route --route_shards=127.0.0.1:[0-9]*,$(shard 1),$(shard 2)" ||
  fail "graphstore-0 is not the router: $(tr '\0' ' ' < "/proc/$pid0/cmdline")"
# Every shard delivers its outbox to every shard; the scorer follows them all.
targets="$(shard 0),$(shard 1),$(shard 2)"
for i in 0 1 2; do
  tr '\0' ' ' < "/proc/$(cat "$dir/run/graphstore-$i.pid")/cmdline" |
    grep -q -- "--shard_peers=$targets" || fail "graphstore-$i has no --shard_peers=$targets"
done
tr '\0' ' ' < "/proc/$(cat "$dir/run/scorer.pid")/cmdline" |
  grep -q -- "--graphstore_shards=$targets" || fail "the scorer does not follow every shard"

# The sum of georisk_graphstore_outbox_pending on shard I's /metrics.
pending() {
  local port; port=$(sed -n 's/^metrics_port=//p' "$dir/run/graphstore-$1.ports")
  python3 - "$port" <<'PY'
import sys, urllib.request
text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode()
print(int(sum(float(l.split()[-1]) for l in text.splitlines()
              if l.startswith("georisk_graphstore_outbox_pending"))))
PY
}

# The demo, through ingest, as run.sh loads it with one shard.
data="$root/data/demo"
ctl_ import "$data/entities.jsonl" "$data/edges.jsonl" "$data/signals.jsonl" \
  --progress=none > "$dir/import.out" 2>&1 || fail "import: $(cat "$dir/import.out")"
grep -q '^accepted: 568$' "$dir/import.out" || fail "import: $(cat "$dir/import.out")"
# The copies of edges across shards reach their other shard.
for i in 0 1 2; do
  for _ in $(seq 1 300); do [ "$(pending "$i")" = 0 ] && break; sleep 0.1; done
  [ "$(pending "$i")" = 0 ] || fail "graphstore-$i's outbox still holds $(pending "$i") entries"
done
# The scorer catches up with every shard (the outbox's deliveries are
# commits too): each row's SCORER FEED has applied the shard's SEQUENCE.
caught_up() {
  ctl_ status | awk '/^graphstore-[0-9]+ / { n++; if ($8 ",lag" != $9 $10) bad = 1 }
                     END { exit (n == 3 && !bad) ? 0 : 1 }'
}
for _ in $(seq 1 300); do caught_up && break; sleep 0.1; done
caught_up || fail "the scorer did not catch up with every shard: $(ctl_ status)"
# It scores an entity of each shard.
scores=$(ctl_ score company/tsmc company/microsoft company/intel) || fail "scores: $scores"
echo "$scores"

status=$(ctl_ status) || fail "status after the import: $status"
echo "$status"
for i in 0 1 2; do
  grep -Eq "^graphstore-$i +127\.0\.0\.1:[0-9]+ +SERVING +${ranges[$i]} +[1-9][0-9]* +[0-9]+ +[0-9]+ +[1-9][0-9]* +[1-9][0-9]*, lag " \
    <<<"$status" || fail "graphstore-$i holds nothing after the import, or the scorer has none of it"
done
# Each edge is counted once, where its out-copy is: the shards add up to the demo.
grep -q "143 entities, 387 edges, 38 signals over 3 shards; this endpoint is graphstore-0" \
  <<<"$status" || fail "the shards do not add up to the demo"
json=$(ctl_ status --output=json) || fail "status --output=json"
[ "$(grep -o '"health": "SERVING", "healthy": true' <<<"$json" | wc -l)" = 3 ] ||
  fail "status --output=json: $json"

# company/tsmc (partition 201), company/microsoft (527) and company/intel
# (902) are shards 0, 1 and 2's: the endpoint reads all three.
read_out=$(ctl_ entity company/tsmc company/microsoft company/intel) ||
  fail "reads through the endpoint: $read_out"
echo "$read_out"
for id in company/tsmc company/microsoft company/intel; do
  grep -q "^$id  *company " <<<"$read_out" || fail "$id not read through the endpoint"
done
refused=$(ctl_ entity company/intel --graphstore="$(shard 1)" 2>&1) && fail "shard 1 served company/intel"
grep -q "FAILED_PRECONDITION: id: company/intel is in partition 902, owned by shard graphstore-2, not by this shard (graphstore-1)" \
  <<<"$refused" || fail "shard 1's refusal does not name the owner: $refused"
ctl_ entity company/microsoft --graphstore="$(shard 1)" >/dev/null || fail "shard 1 refused its own entity"
refused=$(ctl_ links company/tsmc --graphstore="$(shard 1)" 2>&1) && fail "shard 1 served company/tsmc"
grep -q "FAILED_PRECONDITION: entity_id: company/tsmc is in partition 201, owned by shard graphstore-0, not by this shard (graphstore-1)" \
  <<<"$refused" || fail "shard 1's refusal of links does not name the owner"

again=$("$launcher" up --dir "$dir" --bin "$root" --port-base 0)
for svc in graphstore-0 graphstore-1 graphstore-2 ingest scorer; do
  grep -q "^$svc already running" <<<"$again" || fail "second up restarted $svc"
done
"$launcher" status --dir "$dir" --bin "$root" | grep -Ec '^graphstore-[0-2] .* SERVING ' | grep -qx 3 ||
  fail "the launcher's status"

# kill -9 of graphstore-2: only it is down.
port2=$(shard 2)
pid2=$(cat "$dir/run/graphstore-2.pid")
kill -9 "$pid2"
while kill -0 "$pid2" 2>/dev/null; do sleep 0.05; done
if down_status=$(ctl_ status); then fail "status succeeded with a shard down"; fi
echo "$down_status"
grep -Eq "^graphstore-2 +$port2 +UNAVAILABLE +- +- +- +- +- +[1-9][0-9]*, " <<<"$down_status" ||
  fail "graphstore-2 not shown UNAVAILABLE"
# The scorer notices its feed of graphstore-2 is gone, and still serves
# every score, graphstore-2's entities' included.
for _ in $(seq 1 300); do
  { ctl_ status 2>/dev/null || true; } | grep -Eq "^graphstore-2 .*, disconnected, lag " && break
  sleep 0.1
done
{ ctl_ status || true; } | grep -Eq "^graphstore-2 .*, disconnected, lag [0-9.]+s$" ||
  fail "status does not show the scorer's feed of graphstore-2 disconnected"
[ "$(ctl_ score company/tsmc company/microsoft company/intel)" = "$scores" ] ||
  fail "the scores changed or failed with graphstore-2 down"
grep -q "^graphstore-2: UNAVAILABLE: " <<<"$down_status" || fail "no reason for graphstore-2"
for i in 0 1; do
  grep -Eq "^graphstore-$i +127\.0\.0\.1:[0-9]+ +SERVING +${ranges[$i]} " <<<"$down_status" ||
    fail "graphstore-$i not SERVING while graphstore-2 is down"
done
grep -q "over 3 shards, 2 of 3 answering" <<<"$down_status" || fail "the totals do not say 2 of 3"
ctl_ entity company/tsmc company/microsoft >/dev/null || fail "reads of shards 0 and 1 failed"
unavailable=$(ctl_ entity company/intel 2>&1) && fail "company/intel read with its shard down"
grep -q "graphstore-2" <<<"$unavailable" || fail "the failed read does not name graphstore-2: $unavailable"

# up starts it again on its port; what it had acknowledged is there.
restarted=$("$launcher" up --dir "$dir" --bin "$root" --port-base 0)
grep -q "^graphstore-2 started (pid [0-9]*, $port2," <<<"$restarted" ||
  fail "graphstore-2 not restarted on $port2: $restarted"
ctl_ status >/dev/null || fail "status after the restart"
# The router's channel to graphstore-2 reconnects after its backoff.
for _ in $(seq 1 200); do
  ctl_ entity company/intel >/dev/null 2>&1 && break
  sleep 0.1
done
ctl_ entity company/intel >/dev/null || fail "company/intel lost by kill -9"

down=$("$launcher" down --dir "$dir" --bin "$root")
echo "$down"
for svc in scorer ingest graphstore-0 graphstore-1 graphstore-2; do
  grep -q "^$svc stopped cleanly" <<<"$down" || fail "$svc did not stop cleanly"
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
