#!/usr/bin/env bash
# Installs the Debian packages georisk needs to build, test and run, if any
# are missing. Safe to run again: it only calls apt-get when something is
# missing. Needs root or sudo.
set -euo pipefail

packages=(
  # Build: Bazel and the C++ libraries it links from the system (ICU: formats/, resolve/).
  bazel-bootstrap g++ pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev librocksdb-dev libssl-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcurl4-openssl-dev libcpp-httplib-dev
  libicu-dev
  # Benchmarks' references: RocksDB's own db_bench (bench/run.sh), and
  # igraph's PageRank and a GraphBLAS PageRank (bench/scorer_run.sh; the C
  # API, built there with the system compiler: bench/scorer_graphblas.c).
  rocksdb-tools python3-igraph libgraphblas-dev
  # Tests: a real Alertmanager peer (tests/alertmanager_test).
  prometheus-alertmanager
  # Tests of deploy/ and clients/python: promtool (from prometheus), YAML for
  # the manifest checks, Debian's gRPC for Python (/usr/bin/python3), openssl
  # for the dev certificates.
  prometheus python3-yaml python3-grpcio python3-protobuf openssl
  # Tests: the source checks (tests/source/source_checks_test.sh).
  clang-format
  # Tests: the web console in a real browser (tests/console_test, headless).
  chromium
  # Tests: the libFuzzer targets of formats/fuzz (clang, libFuzzer and
  # ASan runtimes).
  clang-14 libclang-rt-14-dev
)

# buildifier, for the source checks: the npm package ships the binary; the
# lockfile in third_party/buildifier pins it. Installed once, into that folder.
install_buildifier() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/third_party/buildifier"
  [ -x "${dir}/node_modules/@bazel/buildifier/buildifier-linux_amd64" ] && return 0
  if ! command -v npm >/dev/null; then
    echo "install-deps: npm not found: installing Debian's npm"
    $sudo apt-get install -y -qq --no-install-recommends npm
  fi
  echo "install-deps: installing buildifier (npm ci in third_party/buildifier)"
  (cd "${dir}" && npm ci --no-audit --no-fund --loglevel=error)
}

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

sudo=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then sudo="sudo"; fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  install_buildifier
  exit 0
fi

if [ "$(id -u)" -ne 0 ] && [ -z "$sudo" ]; then
  echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
install_buildifier
