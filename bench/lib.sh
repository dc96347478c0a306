# bench/lib.sh: what the benchmark scripts share. Source it after
# `set -euo pipefail`:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   bench_make_work georisk-bench   # sets WORK, CHILD; cleans up at exit
#   echo "$(fmt 1234.5) $(fmt 0.1234 3) $(load)"
#   run "$BENCH" --mode=apply ...; echo "$(result apply_edges_per_s)"
#   echo "1 3 2" | median   # 2

# Makes WORK a fresh directory under ${BENCH_DIR:-/tmp} (prefix $1) and sets
# CHILD="" (the scripts put the pid of the command they wait for there). At
# exit, also after a failure or a signal, stops CHILD if it still runs (a
# bench binary stops its own servers: they die with it, PR_SET_PDEATHSIG)
# and removes WORK, keeping the script's exit status.
bench_make_work() {
  mkdir -p "${BENCH_DIR:-/tmp}"
  WORK="$(mktemp -d "${BENCH_DIR:-/tmp}/$1.XXXXXX")"
  CHILD=""
  trap _bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

_bench_cleanup() {
  local status=$?
  if [[ -n "$CHILD" ]] && kill -0 "$CHILD" 2> /dev/null; then
    kill -TERM "$CHILD" 2> /dev/null || true
    wait "$CHILD" 2> /dev/null || true
  fi
  rm -rf "$WORK"
  exit "$status"
}

# fmt VALUE [DECIMALS]: VALUE rounded (default: to an integer).
fmt() { awk -v v="$1" -v d="${2:-0}" 'BEGIN {printf "%.*f", d, v}'; }

# The 1, 5 and 15-minute load averages.
load() { cut -d' ' -f1-3 /proc/loadavg; }

# Sets QUICK and CHECK from the arguments the bench scripts share (--quick,
# --check); -h/--help prints the script's usage() and exits 0, anything else
# is an error (exit 64). The script defines usage() before calling this.
bench_parse_args() {
  QUICK=0
  CHECK=0
  local arg
  for arg in "$@"; do
    case "$arg" in
      --quick) QUICK=1 ;;
      --check) CHECK=1 ;;
      -h | --help) usage; exit 0 ;;
      *) echo "$(basename "$0"): unknown argument $arg" >&2; usage >&2; exit 64 ;;
    esac
  done
}

# Takes --prebuilt=DIR out of the arguments: sets PREBUILT (DIR, or "" when
# not given) and ARGS (the other arguments, for bench_parse_args), for the
# scripts that can run binaries built elsewhere:
#   bench_take_prebuilt "$@"; bench_parse_args "${ARGS[@]+"${ARGS[@]}"}"
bench_take_prebuilt() {
  PREBUILT=""
  ARGS=()
  local arg
  for arg in "$@"; do
    case "$arg" in
      --prebuilt=*) PREBUILT="${arg#--prebuilt=}" ;;
      *) ARGS+=("$arg") ;;
    esac
  done
}

# Runs a command in the background (so a signal can stop it), its stderr to
# the terminal and its stdout to $WORK/out; on failure prints that output
# and exits 1, naming the script.
run() {
  echo "\$ $*" | sed "s#$WORK#\$WORK#g"
  "$@" > "$WORK/out" &
  CHILD=$!
  if ! wait "$CHILD"; then
    CHILD=""
    echo "$(basename "$0"): FAILED: $*" >&2
    cat "$WORK/out" >&2
    exit 1
  fi
  CHILD=""
}

# The value of RESULT name=value in $WORK/out.
result() { sed -n "s/^RESULT $1=//p" "$WORK/out"; }

# The median (the lower middle one of an even count) of the numbers on
# stdin, separated by spaces or newlines.
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
