#!/usr/bin/env bash
# Runs each libFuzzer target of formats/ (build_fuzzers.sh) for a fixed
# number of runs from seeds taken from tests/corpus.
#
#   formats/fuzz/run_fuzzers.sh [RUNS]     # default 20000 per target
#
# Under bazel test (fuzz_test) the binaries come prebuilt from the genrule
# //formats/fuzz:fuzzers, and the test is sharded: shard i of n runs the
# targets at positions i, i+n, ... of the list below. By hand, the script
# first builds them with build_fuzzers.sh.
#
# Environment: FUZZ_OUT (work directory, default a temporary one; crashes are
# left there as crash-* files), FUZZ_TARGETS (default: all), and by hand
# build_fuzzers.sh's CLANGXX and JOBS.
set -euo pipefail

runs="${1:-20000}"
here="$(dirname "${BASH_SOURCE[0]}")"
out="${FUZZ_OUT:-${TEST_TMPDIR:-$(mktemp -d)}/fuzz}"
mkdir -p "${out}"
all="${FUZZ_TARGETS:-jsonl csv_entities csv_edges ftm csl_csv csl_json}"
start=$(date +%s)

if [[ -n "${TEST_SRCDIR:-}" ]]; then
  # Under bazel test: the binaries and the corpus from runfiles.
  root="${TEST_SRCDIR}/${TEST_WORKSPACE:-georisk}"
  bin_dir="${root}/formats/fuzz"
else
  root="$(cd "${here}/../.." && pwd)"
  bin_dir="${out}/bin"
  FUZZ_TARGETS="${all}" "${here}/build_fuzzers.sh" "${bin_dir}" "${root}"
  echo "run_fuzzers: built in $(( $(date +%s) - start ))s"
fi

# This shard's targets.
shard="${TEST_SHARD_INDEX:-0}"
shards="${TEST_TOTAL_SHARDS:-1}"
[[ -n "${TEST_SHARD_STATUS_FILE:-}" ]] && touch "${TEST_SHARD_STATUS_FILE}"
targets=()
i=0
for t in ${all}; do
  (( i % shards == shard )) && targets+=("${t}")
  i=$((i + 1))
done

# target name -> the corpus file its seeds come from.
declare -A seeds=(
  [jsonl]=bad.jsonl [csv_entities]=bad_entities.csv [csv_edges]=bad_edges.csv
  [ftm]=bad.ftm.json [csl_csv]=bad_csl.csv [csl_json]=bad_csl.json)

failed=0
for t in "${targets[@]}"; do
  bin="${bin_dir}/fuzz_${t}"
  [[ -x "${bin}" ]] || { echo "run_fuzzers: ${bin} not found" >&2; exit 1; }
  # Seeds: the corpus file in pieces of a few records (with the CSV header).
  corpus="${out}/corpus_${t}"
  rm -rf "${corpus}"
  mkdir -p "${corpus}"
  src="${root}/tests/corpus/${seeds[$t]}"
  if [[ "${src}" == *.csv ]]; then
    head -n 1 "${src}" > "${out}/header"
    tail -n +2 "${src}" | split -l 4 - "${corpus}/piece_"
    for p in "${corpus}"/piece_*; do
      cat "${out}/header" "${p}" > "${p}.csv" && rm "${p}"
    done
  else
    split -l 4 "${src}" "${corpus}/piece_"
  fi
  echo "run_fuzzers: ${t}: ${runs} runs"
  if ! (cd "${out}" && "${bin}" -runs="${runs}" -seed=1 -max_len=4096 \
          -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
          "${corpus}" > "${out}/${t}.log" 2>&1); then
    echo "run_fuzzers: ${t} FAILED; see ${out}/${t}.log" >&2
    tail -n 40 "${out}/${t}.log" >&2
    failed=1
  else
    grep -E "^stat::number_of_executed_units|^Done" "${out}/${t}.log" || true
  fi
done
echo "run_fuzzers: $(( $(date +%s) - start ))s"
exit "${failed}"
