#!/usr/bin/env bash
# Every binary's --help lists its own flags and the shared server/client
# flags it links, not absl's internal ones, and never "No flags matched";
# it exits with absl's --help code, the same for all four.
set -uo pipefail
root="$TEST_SRCDIR/$TEST_WORKSPACE"
fail() { echo "FAIL: $*" >&2; exit 1; }

# binary, then flags its --help must list.
check() {
  local bin="$1"; shift
  local out rc
  out=$("$root/services/$bin/$bin" --help 2>&1)
  rc=$?
  echo "$bin --help: exit $rc"
  grep -q "No flags matched" <<<"$out" && fail "$bin: No flags matched"
  for flag in "$@"; do
    grep -Eq -- "^ *--$flag \(" <<<"$out" || fail "$bin --help does not list --$flag"
  done
  # absl's own flags (absl/flags/parse.cc, usage_config.cc) stay in --helpfull.
  for flag in flagfile undefok helpfull; do
    grep -Eq -- "^ *--$flag \(" <<<"$out" && fail "$bin --help lists absl's --$flag"
  done
  grep -q "Flags from absl/" <<<"$out" && fail "$bin --help lists absl's flags"
  codes+=("$rc")
}

codes=()
check graphstore data_dir changelog_retention_count listen shutdown_grace \
  partition_map partition_map_file shard_index route route_shards route_timeout
check ingest batch_size retry_deadline resolve_on_import listen graphstore
check scorer model_config alertmanager_url listen
check georiskctl output timeout scorer format limit

# absl exits 1 after --help in this version (usage.cc: HandleUsageFlags); the
# servers parse through InitMain, georiskctl directly: all four must agree,
# and with absl.
for rc in "${codes[@]}"; do
  [ "$rc" = "${codes[0]}" ] || fail "exit codes differ: ${codes[*]}"
done
[ "${codes[0]}" = 1 ] || fail "--help exited ${codes[0]}, absl exits 1"
echo "PASS"
