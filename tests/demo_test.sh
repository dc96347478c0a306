#!/usr/bin/env bash
# The demo end to end, as README's run command does it (minus the build):
# the three services on free loopback ports, the demo dataset imported with
# georiskctl, then checks that the output makes sense:
#  - the Chinese fabs of Samsung and SK hynix carry export-control exposure
#    with the VEU revocation as the top reason;
#  - SK hynix's score comes through its Chinese fabs (and falls when the
#    revocations are lifted);
#  - raising cross-strait tension raises Taiwanese fabs and their customers
#    more than Spanish data centres;
#  - a company owned by a listed person is covered through the stake in
#    effect (51% now, 45% on 2025-01-01);
#  - an alert fired for the revoked fabs, and the import is idempotent.
set -euo pipefail
root="$TEST_SRCDIR/$TEST_WORKSPACE"
launcher="$root/deploy/local/georisk-local"
ctl="$root/services/georiskctl/georiskctl"
dir=$(mktemp -d "${TEST_TMPDIR:-/tmp}/demo.XXXXXX")
cleanup() { "$launcher" down --dir "$dir" --bin "$root" >/dev/null 2>&1 || true; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
py() { /usr/bin/python3 -c "$@"; }

"$launcher" up --dir "$dir" --bin "$root" --port-base 0 >/dev/null
set -a; source "$dir/run/endpoints.env"; set +a
ctl_() { "$ctl" --endpoints_file="$dir/run/endpoints.env" "$@"; }

data="$root/data/demo"
ctl_ import "$data/entities.jsonl" "$data/edges.jsonl" "$data/signals.jsonl" \
  > "$dir/import.out" || fail "import failed: $(cat "$dir/import.out")"
grep -q '^accepted: 568$' "$dir/import.out" || fail "import: $(cat "$dir/import.out")"

# Wait until the scorer has scored the imported graph.
for _ in $(seq 1 300); do
  s=$(ctl_ status --output=json || true)
  g=$(py 'import json,sys; print(json.loads(sys.argv[1])["graph_sequence"])' "$s" 2>/dev/null || echo -1)
  c=$(py 'import json,sys; print(json.loads(sys.argv[1])["scored_sequence"])' "$s" 2>/dev/null || echo -2)
  [ "$g" = "$c" ] && [ "$g" != 0 ] && break
  sleep 0.1
done
[ "$g" = "$c" ] || fail "the scorer did not catch up ($c of $g)"

# 1. The Chinese fabs: export-control exposure, VEU revocation on top.
for fab in facility/samsung-xian facility/skhynix-wuxi; do
  ctl_ explain "$fab" --factor=export_controls --output=json > "$dir/x.json"
  py '
import json, sys
e = json.load(open(sys.argv[1]))
c = e["contributions"][0]
sig = c.get("direct", {}).get("signal_id", "")
assert sig.startswith("signal/bis-veu-revocation"), ("top reason", c)
ec = [f for f in e["score"]["factors"] if f["factor"] == "FACTOR_EXPORT_CONTROLS"][0]
assert ec.get("direct", 0) > 0, ec
' "$dir/x.json" || fail "$fab: VEU revocation is not the top export-control reason"
done

# 2. SK hynix: its export-control exposure comes through a Chinese fab ...
ctl_ explain company/sk-hynix --factor=export_controls --output=json > "$dir/h.json"
py '
import json, sys
e = json.load(open(sys.argv[1]))
up = e["contributions"][0]["upstream"]["entity_id"]
assert up in ("facility/skhynix-wuxi", "facility/skhynix-chongqing", "company/solidigm"), up
' "$dir/h.json" || fail "SK hynix's exposure does not come through its Chinese fabs"
# ... and falls when the revocations are lifted.
ctl_ scenario "$root/data/scenarios/veu-licences-granted.yaml" --limit=1000 \
  --output=json > "$dir/veu.json"
py '
import json, sys
d = {x["entity_id"]: x["delta"] for x in json.load(open(sys.argv[1]))["deltas"]}
assert d.get("company/sk-hynix", 0) < -1, d.get("company/sk-hynix")
assert d.get("facility/skhynix-wuxi", 0) < -5, d.get("facility/skhynix-wuxi")
' "$dir/veu.json" || fail "lifting the VEU revocations does not lower SK hynix"

# 3. Cross-strait tension to 0.9: Taiwanese fabs and their customers move
#    more than Spanish data centres.
ctl_ scenario "$root/data/scenarios/cross-strait-0.9.yaml" --limit=1000 \
  --output=json > "$dir/cs.json"
py '
import json, sys
d = {x["entity_id"]: x["delta"] for x in json.load(open(sys.argv[1]))["deltas"]}
tw = [d.get(k, 0) for k in ("facility/tsmc-hsinchu", "facility/tsmc-tainan")]
customers = [d.get(k, 0) for k in ("company/furiosaai", "facility/tsmc-advanced-backend")]
spain = [d.get(k, 0) for k in ("facility/aws-aragon-villanueva", "facility/aws-aragon-el-burgo",
                               "facility/aws-aragon-huesca", "facility/microsoft-madrid")]
assert min(tw) > max(spain), (tw, spain)
assert min(customers) > max(spain), (customers, spain)
assert min(tw) > 10, tw
' "$dir/cs.json" || fail "cross-strait scenario: Taiwan does not move more than Spain"

# The scenario left live scores alone.
ctl_ score facility/tsmc-hsinchu --output=json > "$dir/live.json"
py '
import json, sys
before = {x["entity_id"]: x["before"]["composite"] for x in json.load(open(sys.argv[2]))["deltas"]}
live = json.load(open(sys.argv[1]))["scores"][0]["composite"]
assert abs(live - before["facility/tsmc-hsinchu"]) < 1e-9, (live, before["facility/tsmc-hsinchu"])
' "$dir/live.json" "$dir/cs.json" || fail "a scenario changed a live score"

# 4. run.sh's person owner and dated stake: the trader is covered by OFAC's
#    50% rule through the person's current 51% record, named as a person;
#    on 2025-01-01 only the 45% record was in effect, below the threshold.
trader=company/hypothetical-hk-components-trader
ctl_ explain "$trader" --factor=export_controls --output=json > "$dir/t.json"
ctl_ score "$trader" --as_of=2025-01-01T00:00:00Z --output=json > "$dir/t2025.json"
py '
import json, sys
e = json.load(open(sys.argv[1]))
why = [c["description"] for c in e["contributions"]]
assert "owned 51% by Hypothetical Investor (person), listed by US-OFAC" in why, why
then = json.load(open(sys.argv[2]))["scores"][0]
ec = [f for f in then["factors"] if f["factor"] == "FACTOR_EXPORT_CONTROLS"][0]
assert ec.get("propagated", 0) == 0, ec
assert then["as_of"].startswith("2025-01-01"), then["as_of"]
' "$dir/t.json" "$dir/t2025.json" || fail "the trader: no person owner, or the 45% stake counted"

# 5. Alerts fired for the revoked fabs; a second import changes nothing.
ctl_ alerts list --limit=1000 --output=json > "$dir/alerts.json"
py '
import json, sys
alerts = json.load(open(sys.argv[1])).get("alerts", [])
assert any(a["entity_id"] in ("facility/tsmc-nanjing", "facility/samsung-xian", "facility/skhynix-wuxi")
           for a in alerts), [a["alert_id"] for a in alerts][:10]
' "$dir/alerts.json" || fail "no alert for the revoked fabs"
ctl_ import "$data/entities.jsonl" "$data/edges.jsonl" "$data/signals.jsonl" \
  > "$dir/import2.out" || fail "second import failed"
grep -q '^duplicates: 568$' "$dir/import2.out" || fail "re-import: $(cat "$dir/import2.out")"

# The human table has the 15 rows README's command shows.
ctl_ top --limit=15 > "$dir/top.txt"
[ "$(grep -c '^ *[0-9]\+ ' "$dir/top.txt")" = 15 ] || fail "top: $(cat "$dir/top.txt")"
# 6. run.sh's lists under their own ids (issue 16): imported after the supply
#    graph, the FtM YMTC links to company/ymtc by its LEI, the CSL's SMIC row
#    waits for review (name and country only), and accepting it succeeds.
ctl_ import "$data/csl.csv" "$data/opensanctions.ftm.json" > "$dir/lists.out" \
  || fail "lists import failed: $(cat "$dir/lists.out")"
for line in 'accepted: 4' 'rejected: 0 (0 while parsing, 0 by ingest)' \
    'linked_automatically: 1' 'waiting_for_review: 1' 'links_written: 2'; do
  grep -qxF "$line" "$dir/lists.out" || fail "lists import: no '$line' in $(cat "$dir/lists.out")"
done
ctl_ links company/ymtc --output=json > "$dir/ymtc_links.json"
py '
import json, sys
links = json.load(open(sys.argv[1])).get("links", [])
mine = [l for l in links if "company/ftm-georisk-demo-ymtc" in (l["entity_a"], l["entity_b"])]
assert len(mine) == 1, links
l = mine[0]
assert (l["judgement"], l["method"], l["decided_by"]) == ("POSITIVE", "IDENTIFIER", "rule:identifier"), l
assert any("lei 5493000DEMOYMTC00179 equal" in e for e in l["evidence"]), l["evidence"]
' "$dir/ymtc_links.json" || fail "YMTC: no identifier link to the FtM party: $(cat "$dir/ymtc_links.json")"
# The queue holds the supply graph's own name candidates too (its GPU
# clusters, SK Group's companies); of the lists' parties only the CSL row.
ctl_ review list --limit=1000 --output=json > "$dir/queue.json"
py '
import json, sys
queue = json.load(open(sys.argv[1])).get("links", [])
lists = [l for l in queue if any(x.startswith(("company/csl-", "company/ftm-"))
                                 for x in (l["entity_a"], l["entity_b"]))]
assert len(lists) == 1, lists
l = lists[0]
assert {l["entity_a"], l["entity_b"]} == {"company/csl-cmic-30951", "company/smic"}, l
assert (l["judgement"], l["method"]) == ("UNSURE", "NAME"), l
' "$dir/queue.json" || fail "review queue: not one list candidate: $(cat "$dir/queue.json")"
ctl_ review list --source=https://ofac.treasury.gov/ > "$dir/queue.txt"
grep -q '^(1 of 1 waiting for review)$' "$dir/queue.txt" || fail "review list --source: $(cat "$dir/queue.txt")"

# Wait for the scorer (after the lists import, then after the accept).
caught_up() {
  for _ in $(seq 1 300); do
    s=$(ctl_ status --output=json || true)
    g=$(py 'import json,sys; print(json.loads(sys.argv[1])["graph_sequence"])' "$s" 2>/dev/null || echo -1)
    c=$(py 'import json,sys; print(json.loads(sys.argv[1])["scored_sequence"])' "$s" 2>/dev/null || echo -2)
    [ "$g" = "$c" ] && break
    sleep 0.1
  done
  [ "$g" = "$c" ] || fail "the scorer did not catch up ($c of $g)"
}
composite() {
  ctl_ score company/smic --output=json |
    py 'import json,sys; print(json.load(sys.stdin)["scores"][0]["composite"])'
}
caught_up
before=$(composite)
ctl_ review accept company/csl-cmic-30951 company/smic --reviewer=demo-test \
  --reason="same party" > "$dir/accept.out" || fail "review accept: $(cat "$dir/accept.out")"
grep -q '^accepted: company/csl-cmic-30951 = company/smic is positive (name, reviewer:demo-test)' \
  "$dir/accept.out" || fail "review accept: $(cat "$dir/accept.out")"
ctl_ links company/smic --output=json > "$dir/smic_links.json"
py '
import json, sys
l = json.load(open(sys.argv[1]))["links"][0]
assert (l["judgement"], l["decided_by"]) == ("POSITIVE", "reviewer:demo-test"), l
' "$dir/smic_links.json" || fail "SMIC: the accepted link is not positive: $(cat "$dir/smic_links.json")"
caught_up
after=$(composite)
# The scorer honours positive links: the CMIC listing of the linked CSL
# party now counts for SMIC (80.5 -> 90.3 on the demo).
py 'import sys; assert float(sys.argv[2]) > float(sys.argv[1]), sys.argv[1:]' "$before" "$after" \
  || fail "SMIC's score did not rise on accepting the link: $before -> $after"
echo "SMIC: $before -> $after"
echo PASS
