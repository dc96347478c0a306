#!/usr/bin/env bash
# Builds a libFuzzer binary per parser of formats/ with clang
# (-fsanitize=fuzzer,address) against the system libraries. Bazel cannot
# switch compilers here, so this script is the build: the genrule
# //formats/fuzz:fuzzers runs it (Bazel caches its binaries and builds them
# beside other actions), and run_fuzzers.sh runs it when used by hand.
#
#   formats/fuzz/build_fuzzers.sh OUT_DIR [ROOT]
#
# Writes OUT_DIR/fuzz_<target> for each target of FUZZ_TARGETS (default: all
# six); ROOT is the source tree (default: this script's ../..). Environment:
# CLANGXX (default clang++-14, else clang++), JOBS (parallel compiles,
# default nproc). Needs clang, libclang-rt-14-dev, protobuf-compiler,
# pkg-config and the -dev packages of deploy/install-deps.sh.
set -euo pipefail

[[ $# -ge 1 ]] || { echo "usage: build_fuzzers.sh OUT_DIR [ROOT]" >&2; exit 2; }
mkdir -p "$1"
bin_dir="$(cd "$1" && pwd)"
root="$(cd "${2:-$(dirname "${BASH_SOURCE[0]}")/../..}" && pwd)"
jobs="${JOBS:-$(nproc)}"
cxx="${CLANGXX:-}"
if [[ -z "${cxx}" ]]; then
  if command -v clang++-14 >/dev/null; then cxx=clang++-14; else cxx=clang++; fi
fi
command -v "${cxx}" >/dev/null || { echo "build_fuzzers: ${cxx} not found" >&2; exit 1; }

# target name -> ingest::Format value.
declare -A formats=(
  [jsonl]=kJsonl [csv_entities]=kCsvEntities [csv_edges]=kCsvEdges
  [ftm]=kFtm [csl_csv]=kCslCsv [csl_json]=kCslJson)
targets="${FUZZ_TARGETS:-jsonl csv_entities csv_edges ftm csl_csv csl_json}"

work="$(mktemp -d "${TMPDIR:-/tmp}/build_fuzzers.XXXXXX")"
trap 'rm -rf "${work}"' EXIT
mkdir -p "${work}/gen" "${work}/obj"

# The one generated file the parsers need.
protoc --proto_path="${root}/proto" --cpp_out="${work}/gen" \
  "${root}/proto/georisk/v1/graph.proto"

modules="protobuf absl_strings absl_str_format absl_status absl_statusor \
absl_time absl_hash absl_raw_hash_set icu-uc icu-i18n libcrypto"
# shellcheck disable=SC2086
cflags="-std=c++17 -g -O1 -fno-omit-frame-pointer -I${root} -I${work}/gen \
$(pkg-config --cflags ${modules})"
# shellcheck disable=SC2086
libs="$(pkg-config --libs ${modules})"

sources=(
  "${work}/gen/georisk/v1/graph.pb.cc"
  "${root}/base/proto_time.cc"
  "${root}/domain/country_codes.cc"
  "${root}/domain/text_fold.cc"
  "${root}/domain/country_names.cc"
  "${root}/domain/validation.cc"
  "${root}/domain/normalize.cc"
  "${root}/domain/record_validation.cc"
)
# Every source of formats/ but its tests (the files //formats:format_srcs
# gives the genrule), so that a new parser file cannot be left out.
for src in "${root}"/formats/*.cc; do
  [[ "${src}" == *_test.cc ]] && continue
  sources+=("${src}")
done

# Instrument our code; generated protobuf code only needs ASan.
compile() {
  local src="$1" obj
  obj="${work}/obj/$(basename "${src}" .cc).o"
  local sanitize="-fsanitize=fuzzer-no-link,address"
  [[ "${src}" == *.pb.cc ]] && sanitize="-fsanitize=address"
  # shellcheck disable=SC2086
  "${cxx}" ${cflags} ${sanitize} -c "${src}" -o "${obj}"
}
# One link per target, in parallel like the compiles.
link() {
  local t="$1" format="$2"
  # shellcheck disable=SC2086
  "${cxx}" ${cflags} -fsanitize=fuzzer,address \
    -DGEORISK_FUZZ_FORMAT="${format}" \
    "${root}/formats/fuzz/parser_fuzzer.cc" "${work}"/obj/*.o \
    ${libs} -o "${bin_dir}/fuzz_${t}"
}
export -f compile link
export cxx cflags libs work root bin_dir
printf '%s\n' "${sources[@]}" | xargs -P "${jobs}" -I{} bash -c 'compile "$1"' _ {}
for t in ${targets}; do echo "${t} ${formats[$t]}"; done |
  xargs -P "${jobs}" -L 1 bash -c 'link "$1" "$2"' _
