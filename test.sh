#!/usr/bin/env bash
# README's second command: install what is missing, then build and run every
# test. Ends with one line "N passed, M failed" counting test cases (from the
# JUnit XML of the test targets this run reported) and exits non-zero if
# anything failed.
set -uo pipefail
cd "$(dirname "$0")"
deploy/install-deps.sh || exit 1

log=$(mktemp)
trap 'rm -f "$log"' EXIT
bazel test --test_output=errors --test_summary=short //... "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

read -r passed failed < <(python3 - "$log" <<'PY' || echo "0 1"
import re, sys, os, xml.etree.ElementTree as ET
passed = failed = 0
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r"^(//\S+)\s+(?:\(cached\) )?(PASSED|FAILED|TIMEOUT|FLAKY|NO STATUS|FAILED TO BUILD)", line)
    if not m:
        continue
    label, result = m.groups()
    pkg, _, name = label[2:].partition(":")
    xml_path = os.path.join("bazel-testlogs", pkg, name, "test.xml")
    cases_p = cases_f = 0
    try:
        for case in ET.parse(xml_path).getroot().iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                cases_f += 1
            elif case.get("result", "completed") != "skipped" and case.get("status", "run") != "notrun":
                cases_p += 1
    except (OSError, ET.ParseError):
        pass
    if result != "PASSED" and cases_f == 0:
        cases_f = 1  # A target that failed without a failing case (crash, timeout, build).
    passed += cases_p
    failed += cases_f
print(passed, failed)
PY
)
if [ "$rc" -ne 0 ] && [ "${failed:-0}" -eq 0 ]; then failed=1; fi
echo "${passed} passed, ${failed} failed"
exit "$rc"
