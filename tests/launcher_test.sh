#!/usr/bin/env bash
# deploy/local/georisk-local: up starts all three services on free ports and
# waits for SERVING; up again is idempotent; status reports; down stops each
# one cleanly (SIGTERM, drain, exit).
set -euo pipefail
root="$TEST_SRCDIR/$TEST_WORKSPACE"
launcher="$root/deploy/local/georisk-local"
dir=$(mktemp -d "${TEST_TMPDIR:-/tmp}/launcher.XXXXXX")
cleanup() { "$launcher" down --dir "$dir" --bin "$root" >/dev/null 2>&1 || true; }
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

out=$("$launcher" up --dir "$dir" --bin "$root" --port-base 0)
echo "$out"
for svc in graphstore ingest scorer; do
  grep -q "^$svc started" <<<"$out" || fail "$svc did not start"
  grep -Eq "^$svc +127\.0\.0\.1:[0-9]+ +SERVING( |$)" <<<"$out" || fail "$svc not SERVING"
done
grep -q '^GEORISK_SCORER=127.0.0.1:[0-9]' "$dir/run/endpoints.env" || fail "no endpoints file"

again=$("$launcher" up --dir "$dir" --bin "$root" --port-base 0)
for svc in graphstore ingest scorer; do
  grep -q "^$svc already running" <<<"$again" || fail "second up restarted $svc"
done

"$launcher" status --dir "$dir" --bin "$root" | grep -c SERVING | grep -qx 3 || fail "status"

down=$("$launcher" down --dir "$dir" --bin "$root")
echo "$down"
for svc in graphstore ingest scorer; do
  grep -q "^$svc stopped cleanly" <<<"$down" || fail "$svc did not stop cleanly"
done
if "$launcher" status --dir "$dir" --bin "$root" >/dev/null 2>&1; then
  fail "status succeeded after down"
fi
echo PASS
