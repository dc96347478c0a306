#!/usr/bin/env bash
# The source tree's own checks, run by ./test.sh with every other test:
#   - the include graph keeps to the layers of docs/architecture.md
#     (tests/source/layering.py);
#   - every C++ file is clang-format clean (Google style, .clang-format);
#   - every BUILD, .bzl and WORKSPACE file is buildifier clean.
# It reads the checkout itself (found through a runfile's symlink), so it is
# tagged "external" in tests/BUILD: Bazel never caches its result.
set -euo pipefail

runfiles="${TEST_SRCDIR:-$(dirname "$0")/..}/${TEST_WORKSPACE:-georisk}"
root="$(dirname "$(readlink -f "${runfiles}/README.md")")"
cd "${root}"

failed=0
python3 tests/source/layering.py . || failed=1

if [ -d .git ] && command -v git >/dev/null; then
  mapfile -t cc < <(git ls-files -- '*.cc' '*.h' ':!third_party/**')
  mapfile -t bazel_files < <(git ls-files -- 'WORKSPACE' 'BUILD' '*/BUILD' \
    '*.bzl' ':!third_party/bazel/**')
else
  mapfile -t cc < <(find . -path ./third_party -prune -o -path './bazel-*' \
    -prune -o \( -name '*.cc' -o -name '*.h' \) -print)
  mapfile -t bazel_files < <(find . -path ./third_party/bazel -prune -o \
    -path './bazel-*' -prune -o \( -name BUILD -o -name WORKSPACE -o \
    -name '*.bzl' \) -print)
fi

clang_format="$(command -v clang-format || command -v clang-format-14 || true)"
if [ -z "${clang_format}" ]; then
  echo "source_checks: clang-format not found (deploy/install-deps.sh installs it)"
  failed=1
else
  # One clang-format over every file (one process per file took about 60 s
  # of the test's time); only when that finds something, each file again,
  # to name the ones at fault.
  unformatted=()
  if ! "${clang_format}" --style=file --dry-run --Werror "${cc[@]}" \
    >/dev/null 2>&1; then
    for f in "${cc[@]}"; do
      "${clang_format}" --style=file --dry-run --Werror "$f" >/dev/null 2>&1 ||
        unformatted+=("$f")
    done
  fi
  if [ ${#unformatted[@]} -gt 0 ]; then
    echo "source_checks: ${#unformatted[@]} C++ file(s) not clang-format clean" \
      "(fix: clang-format -i FILE):"
    printf '  %s\n' "${unformatted[@]}"
    failed=1
  else
    echo "source_checks: ${#cc[@]} C++ files clang-format clean"
  fi
fi

buildifier=third_party/buildifier/node_modules/@bazel/buildifier/buildifier-linux_amd64
if [ ! -x "${buildifier}" ]; then
  echo "source_checks: ${buildifier} missing (deploy/install-deps.sh installs it)"
  failed=1
elif ! "${buildifier}" --mode=check --lint=off "${bazel_files[@]}"; then
  echo "source_checks: BUILD files not buildifier clean" \
    "(fix: ${buildifier} FILE)"
  failed=1
else
  echo "source_checks: ${#bazel_files[@]} Bazel files buildifier clean"
fi
exit "${failed}"
