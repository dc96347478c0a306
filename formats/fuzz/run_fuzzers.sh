#!/usr/bin/env bash
# Builds a libFuzzer target per parser of formats/ with clang
# (-fsanitize=fuzzer,address) against the system libraries, and runs each for
# a fixed number of runs from seeds taken from tests/corpus. Bazel cannot
# switch compilers here, so this script is the build; fuzz_test (sh_test)
# runs it in CI.
#
#   formats/fuzz/run_fuzzers.sh [RUNS]     # default 20000 per target
#
# Environment: CLANGXX (default clang++-14, else clang++), JOBS (parallel
# compiles, default nproc), FUZZ_OUT (work directory, default a temporary
# one; crashes are left there as crash-* files), FUZZ_TARGETS (default: all).
# Needs clang, libclang-rt-14-dev, protobuf-compiler, pkg-config and the
# -dev packages of deploy/install-deps.sh.
set -euo pipefail

runs="${1:-20000}"
here="$(dirname "${BASH_SOURCE[0]}")"
if [[ -n "${TEST_SRCDIR:-}" ]]; then
  # Under bazel test: every source comes from runfiles (fuzz_test's data).
  root="${TEST_SRCDIR}/${TEST_WORKSPACE:-georisk}"
else
  root="$(cd "${here}/../.." && pwd)"
fi
src_root="${root}"
out="${FUZZ_OUT:-${TEST_TMPDIR:-$(mktemp -d)}/fuzz}"
jobs="${JOBS:-$(nproc)}"
cxx="${CLANGXX:-}"
if [[ -z "${cxx}" ]]; then
  if command -v clang++-14 >/dev/null; then cxx=clang++-14; else cxx=clang++; fi
fi
command -v "${cxx}" >/dev/null || { echo "run_fuzzers: ${cxx} not found" >&2; exit 1; }

# target name -> ingest::Format value, and the corpus file its seeds come from.
declare -A formats=(
  [jsonl]=kJsonl [csv_entities]=kCsvEntities [csv_edges]=kCsvEdges
  [ftm]=kFtm [csl_csv]=kCslCsv [csl_json]=kCslJson)
declare -A seeds=(
  [jsonl]=bad.jsonl [csv_entities]=bad_entities.csv [csv_edges]=bad_edges.csv
  [ftm]=bad.ftm.json [csl_csv]=bad_csl.csv [csl_json]=bad_csl.json)
targets="${FUZZ_TARGETS:-jsonl csv_entities csv_edges ftm csl_csv csl_json}"

mkdir -p "${out}/gen" "${out}/obj"
start=$(date +%s)

# The one generated file the parsers need.
protoc --proto_path="${root}/proto" --cpp_out="${out}/gen" \
  "${root}/proto/georisk/v1/graph.proto"

modules="protobuf absl_strings absl_str_format absl_status absl_statusor \
absl_time absl_hash absl_raw_hash_set icu-uc icu-i18n libcrypto"
# shellcheck disable=SC2086
cflags="-std=c++17 -g -O1 -fno-omit-frame-pointer -I${root} -I${src_root} \
-I${out}/gen \
$(pkg-config --cflags ${modules})"
# shellcheck disable=SC2086
libs="$(pkg-config --libs ${modules})"

sources=(
  "${out}/gen/georisk/v1/graph.pb.cc"
  "${src_root}/base/proto_time.cc"
  "${src_root}/domain/country_codes.cc"
  "${src_root}/domain/text_fold.cc"
  "${src_root}/domain/country_names.cc"
  "${src_root}/domain/validation.cc"
  "${src_root}/domain/normalize.cc"
  "${src_root}/domain/record_validation.cc"
)
for f in byte_reader csv_reader json_scanner format_util authorities \
         record_parser \
         jsonl_parser csv_parser ftm_parser csl_parser parsers; do
  sources+=("${root}/formats/${f}.cc")
done

# Instrument our code; generated protobuf code only needs ASan.
compile() {
  local src="$1" obj
  obj="${out}/obj/$(basename "${src}" .cc).o"
  local sanitize="-fsanitize=fuzzer-no-link,address"
  [[ "${src}" == *.pb.cc ]] && sanitize="-fsanitize=address"
  # shellcheck disable=SC2086
  "${cxx}" ${cflags} ${sanitize} -c "${src}" -o "${obj}"
}
export -f compile
export cxx cflags out
printf '%s\n' "${sources[@]}" | xargs -P "${jobs}" -I{} bash -c 'compile "$1"' _ {}

failed=0
for t in ${targets}; do
  bin="${out}/fuzz_${t}"
  # shellcheck disable=SC2086
  "${cxx}" ${cflags} -fsanitize=fuzzer,address \
    -DGEORISK_FUZZ_FORMAT="${formats[$t]}" \
    "${root}/formats/fuzz/parser_fuzzer.cc" "${out}"/obj/*.o \
    ${libs} -o "${bin}"
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
