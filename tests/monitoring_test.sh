#!/usr/bin/env bash
# deploy/monitoring: the Prometheus rules pass `promtool check rules` and their
# unit tests (`promtool test rules`); the scrape config passes `promtool check
# config`; each running service's /metrics passes `promtool check metrics`;
# the Grafana dashboard is well formed, its expressions parse, and every
# metric it and the rules name is exposed by the services (scraped here from
# the local launcher after some traffic), external, or listed as pending.
set -euo pipefail
root="$TEST_SRCDIR/$TEST_WORKSPACE"
mon="$root/deploy/monitoring"
launcher="$root/deploy/local/georisk-local"
py=/usr/bin/python3
export PYTHONPATH="$root/clients/python/gen"
dir=$(mktemp -d "${TEST_TMPDIR:-/tmp}/monitoring.XXXXXX")
cleanup() { "$launcher" down --dir "$dir" --bin "$root" >/dev/null 2>&1 || true; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v promtool >/dev/null || fail "promtool not found (Debian package prometheus; deploy/install-deps.sh)"

# Rules, their unit tests, the scrape config.
cp -L "$mon/prometheus/"*.yaml "$dir/"
promtool check rules "$dir/georisk-rules.yaml" || fail "promtool check rules"
promtool test rules "$dir/georisk-rules.test.yaml" || fail "promtool test rules"
# Debian's Prometheus is built without Kubernetes service discovery: check
# everything else of the config, with static targets in its place.
touch "$dir/token" "$dir/ca.crt"
"$py" - "$dir/prometheus.yaml" "$dir/prometheus-static.yaml" "$dir" <<'PY'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
for job in c["scrape_configs"]:
    assert job.pop("kubernetes_sd_configs"), job["job_name"]
    job["static_configs"] = [{"targets": ["127.0.0.1:9"]}]
    if "authorization" in job:
        job["authorization"]["credentials_file"] = sys.argv[3] + "/token"
        job["tls_config"]["ca_file"] = sys.argv[3] + "/ca.crt"
yaml.safe_dump(c, open(sys.argv[2], "w"))
PY
promtool check config "$dir/prometheus-static.yaml" || fail "promtool check config"

# The services, with some traffic so that labelled families have series.
"$launcher" up --dir "$dir/run-georisk" --bin "$root" --port-base 0 >/dev/null
# shellcheck disable=SC1091
. "$dir/run-georisk/run/endpoints.env"
"$py" "$root/tests/georisk_seed.py" "$GEORISK_GRAPHSTORE" >/dev/null || fail "seeding graphstore"
"$py" "$root/clients/python/examples/top_risks.py" --scorer "$GEORISK_SCORER" \
  --watch-seconds 1 --wait-scored 5 >/dev/null 2>&1 || true  # traffic only
scrapes=()
for svc in graphstore ingest scorer; do
  port=$(sed -n 's/^metrics_port=//p' "$dir/run-georisk/run/$svc.ports")
  "$py" -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' \
    "http://127.0.0.1:$port/metrics" > "$dir/$svc.prom" || fail "scraping $svc"
  grep -q '^grpc_server_handled_total{' "$dir/$svc.prom" || fail "$svc: no grpc_server_handled_total"
  lint=$(promtool check metrics < "$dir/$svc.prom" 2>&1) || fail "$svc /metrics: promtool check metrics: $lint"
  [ -z "$lint" ] || fail "$svc /metrics: promtool check metrics: $lint"
  echo "$svc /metrics: $(grep -c '^# TYPE' "$dir/$svc.prom") families, promtool check metrics clean"
  scrapes+=(--scrape "$dir/$svc.prom")
done

"$py" "$root/tests/monitoring_check.py" --dashboard "$mon/grafana/georisk-dashboard.json" \
  --rules "$dir/georisk-rules.yaml" --readme "$mon/README.md" --self-test "${scrapes[@]}" ||
  fail "dashboard or rules: see the FAIL lines above"
echo PASS
