#!/usr/bin/env bash
# clients/python: starts the three services with the local launcher (free
# ports), loads a tiny graph (tests/georisk_seed.py), runs
# clients/python/examples/top_risks.py against the scorer and checks what it
# prints and its exit code; then stops the services and checks the example's
# error when the scorer is down, and its usage error.
#
# The scorer in the tree either still answers UNIMPLEMENTED (main_stub.cc) or
# scores (main.cc). The test accepts exactly those two behaviours and checks
# each fully; anything else fails.
set -euo pipefail
root="$TEST_SRCDIR/$TEST_WORKSPACE"
launcher="$root/deploy/local/georisk-local"
py=/usr/bin/python3  # Debian's, with python3-grpcio and python3-protobuf
export PYTHONPATH="$root/clients/python/gen"
example="$root/clients/python/examples/top_risks.py"
dir=$(mktemp -d "${TEST_TMPDIR:-/tmp}/pyclient.XXXXXX")
cleanup() { "$launcher" down --dir "$dir" --bin "$root" >/dev/null 2>&1 || true; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
run() {  # run ARGS...: the example's stdout+stderr in $out, exit code in $code
  set +e; out=$("$py" "$example" "$@" 2>&1); code=$?; set -e
}

"$launcher" up --dir "$dir" --bin "$root" --port-base 0 >/dev/null
# shellcheck disable=SC1091
. "$dir/run/endpoints.env"
"$py" "$root/tests/georisk_seed.py" "$GEORISK_GRAPHSTORE" | grep -q '^applied sequence [1-9]' ||
  fail "seeding graphstore"

run --scorer "$GEORISK_SCORER" --watch-seconds 1 --wait-scored 5
echo "$out"
if [ "$code" -eq 3 ] && grep -q 'UNIMPLEMENTED' <<<"$out"; then
  # The stub scorer (services/scorer/main_stub.cc).
  grep -qxF "top risks: not available: the server at $GEORISK_SCORER does not implement Scorer.ListTopRisks yet (UNIMPLEMENTED)" <<<"$out" ||
    fail "ListTopRisks UNIMPLEMENTED not reported as expected"
  grep -qxF "alerts: not available: the server at $GEORISK_SCORER does not implement Alerts.WatchAlerts yet (UNIMPLEMENTED)" <<<"$out" ||
    fail "WatchAlerts UNIMPLEMENTED not reported as expected"
  [ "$(wc -l <<<"$out")" -eq 2 ] || fail "unexpected output besides the two not-available lines"
  echo "scorer: stub (UNIMPLEMENTED), reported as such"
elif [ "$code" -eq 0 ] || [ "$code" -eq 3 ]; then
  # The real scorer: it follows graphstore's feed, so wait (30 s at most) for
  # the seeded graph to be scored and its first alerts to be written.
  for _ in $(seq 1 60); do
    if [ "$code" -eq 0 ] && grep -q '^  4 of 4; model .*, graph sequence [1-9]' <<<"$out" &&
        grep -q '^  #[0-9]* FIRING .*company/listed-parts' <<<"$out"; then
      break
    fi
    sleep 0.5
    run --scorer "$GEORISK_SCORER" --watch-seconds 1 --wait-scored 5
  done
  echo "$out"
  [ "$code" -eq 0 ] || fail "exit code $code from a scoring scorer"
  grep -qxF "top risks (composite) from $GEORISK_SCORER:" <<<"$out" || fail "no top-risks header"
  rows=$(grep -E '^ +[0-9]+ +[0-9]+\.[0-9] ' <<<"$out")
  for id in company/acme-ai company/hsinchu-foundry company/listed-parts facility/hsinchu-fab-1; do
    grep -q " $id " <<<"$rows" || fail "$id is not in the top risks"
  done
  [ "$(head -n1 <<<"$rows" | awk '{print $6}')" = company/listed-parts ] ||
    fail "the listed company (export control severity 0.9) does not rank first"
  awk '{print $2}' <<<"$rows" | sort -rn -c 2>/dev/null || fail "scores are not in descending order"
  grep -q '^  4 of 4; model .*, graph sequence [1-9]' <<<"$out" || fail "no '4 of 4' summary"
  grep -qxF "alerts from sequence 1 at $GEORISK_SCORER (watching 1s):" <<<"$out" || fail "no alerts header"
  grep -q '^  #[0-9]* FIRING .*company/listed-parts' <<<"$out" || fail "no FIRING alert for the listed company"

  # Resuming: the first run saves the last sequence, the second starts after it.
  run --scorer "$GEORISK_SCORER" --watch-seconds 1 --state-file "$dir/alerts.seq"
  [ "$code" -eq 0 ] || fail "run with a state file: exit $code"
  last=$(cat "$dir/alerts.seq")
  [[ "$last" =~ ^[1-9][0-9]*$ ]] || fail "state file holds '$last'"
  grep -qxF "  saved: the next run resumes from $((last + 1))" <<<"$out" || fail "no saved line"
  run --scorer "$GEORISK_SCORER" --watch-seconds 1 --state-file "$dir/alerts.seq"
  echo "$out"
  grep -qxF "alerts from sequence $((last + 1)) at $GEORISK_SCORER (watching 1s):" <<<"$out" ||
    fail "second run did not resume from $((last + 1))"
  grep -q '^  #' <<<"$out" && fail "second run repeated alerts already seen"
  echo "scorer: scoring; top risks and a resumed alert watch checked"
else
  fail "unexpected exit code $code"
fi

# Down: a clean error and exit code 1.
"$launcher" down --dir "$dir" --bin "$root" >/dev/null
run --scorer "$GEORISK_SCORER" --watch-seconds 1
echo "$out"
[ "$code" -eq 1 ] || fail "exit code $code with the scorer down, want 1"
grep -q "^top risks: error: cannot reach the georisk server at $GEORISK_SCORER (UNAVAILABLE: .*Connection refused" <<<"$out" ||
  fail "no clean 'cannot reach' error with the scorer down"
grep -q 'Traceback' <<<"$out" && fail "a traceback instead of an error message"

# Usage.
run --scorer "$GEORISK_SCORER" --limit 0
[ "$code" -eq 2 ] || fail "exit code $code for --limit 0, want 2"
echo PASS
