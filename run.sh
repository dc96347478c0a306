#!/usr/bin/env bash
# README's first command: install what is missing, build, start georisk on
# loopback (graphstore, ingest, scorer), import the demo supply chain and two
# lists that name its parties under their own ids (show the one linked by
# identifier, the one waiting for review, SMIC's score before and after a
# reviewer accepts it), print the top risks with their main reason, a company
# owned by a listed person through a dated stake (now and before the stake changed), run one what-if,
# and leave the services running. Running it again is harmless: the import is idempotent.
set -euo pipefail
cd "$(dirname "$0")"

deploy/install-deps.sh
echo "== Building (the first build takes a few minutes) =="
bazel build //services/graphstore //services/ingest //services/scorer //services/georiskctl

echo
echo "== Starting graphstore, ingest and scorer on loopback =="
deploy/local/georisk-local up "$@"
set -a
# shellcheck disable=SC1091
source .georisk/run/endpoints.env
set +a
ctl=bazel-bin/services/georiskctl/georiskctl

echo
echo "== Importing the demo supply chain (data/demo) =="
"$ctl" import data/demo/entities.jsonl data/demo/edges.jsonl \
  data/demo/signals.jsonl --rejections=.georisk/rejections.jsonl

# The scorer follows graphstore's change feed: wait until it has caught up.
caught_up() {
  for _ in $(seq 1 300); do
    status=$("$ctl" status --output=json 2>/dev/null || true)
    graph=$(sed -n 's/.*"graph_sequence": \([0-9-]*\).*/\1/p' <<<"$status")
    scored=$(sed -n 's/.*"scored_sequence": \([0-9-]*\).*/\1/p' <<<"$status")
    [ -n "$graph" ] && [ "$graph" = "$scored" ] && break
    sleep 0.2
  done
}

echo
echo "== Importing two lists that name demo parties under their own ids =="
echo "(data/demo/csl.csv: the Consolidated Screening List's real row for SMIC;"
echo " data/demo/opensanctions.ftm.json: YMTC and its Entity List listing in"
echo " OpenSanctions' format, with an illustrative LEI the demo's YMTC carries)"
"$ctl" import data/demo/csl.csv data/demo/opensanctions.ftm.json \
  --rejections=.georisk/rejections.jsonl
caught_up

echo
echo "== Linked automatically by identifier (LEI) =="
"$ctl" links company/ymtc

echo
echo "== Waiting for review: matched by name and country only =="
"$ctl" review list --source=https://ofac.treasury.gov/

echo
echo "== SMIC's score before the review =="
"$ctl" score company/smic

echo
echo "== A reviewer accepts the candidate =="
"$ctl" review accept company/csl-cmic-30951 company/smic --reviewer=demo \
  --reason="same party: the CMIC row gives SMIC's Shanghai address and tickers"
caught_up

echo
echo "== SMIC's score after the review =="
"$ctl" score company/smic

echo
echo "== The 15 highest risks, with their main reason =="
"$ctl" top --limit 15

echo
echo "== A company a listed person owns, through a stake that changed =="
echo "(data/demo: Hypothetical Investor, on OFAC's SDN list, held 45% of the"
echo " trader until 1 Jul 2025 and 51% since; OFAC's 50% rule counts the"
echo " record in effect)"
trader=company/hypothetical-hk-components-trader
"$ctl" explain "$trader" --factor export_controls
echo "-- the same company as of 2025-01-01, when the stake was 45%:"
"$ctl" score "$trader" --as_of 2025-01-01T00:00:00Z

echo
echo "== What if cross-strait tension rose to 0.9? (data/scenarios) =="
"$ctl" scenario data/scenarios/cross-strait-0.9.yaml --limit 10

cat <<NEXT

georisk is running (graphstore $GEORISK_GRAPHSTORE, ingest $GEORISK_INGEST,
scorer $GEORISK_SCORER).
Open the web console: $GEORISK_CONSOLE
Next, try:
  $ctl explain company/sk-hynix
  $ctl top --factor tariffs --kind facility
  $ctl scenario data/scenarios/veu-licences-granted.yaml
  $ctl alerts watch --state_file .georisk/alerts.seq
  $ctl status
Stop everything with: deploy/local/georisk-local down
NEXT
