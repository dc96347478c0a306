"""Checks the Grafana dashboard and the Prometheus rules against what georisk
exposes.

    /usr/bin/python3 tests/monitoring_check.py --dashboard D.json --rules R.yaml \
        --readme deploy/monitoring/README.md [--scrape FILE ...] [--self-test]

- the dashboard parses; it has a Prometheus datasource variable; every panel
  has a datasource and at least one target, each with a datasource and an
  expression; ids are unique; panels fit the 24-column grid;
- every expression of the dashboard parses as PromQL (promtool check rules
  on a file of recording rules made from them, Grafana variables filled in);
- every metric the dashboard and the rules name is one the services expose
  (the --scrape files, scraped from the running services), or an external
  one (up, the kubelet's volume stats), or one of PENDING_METRICS, which the
  README must list; pending metrics that are now exposed are reported.
--self-test breaks copies of the dashboard and expects each to be caught.
"""

import argparse
import copy
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

# Metrics Prometheus itself or the kubelet provides.
EXTERNAL_METRICS = {"up", "kubelet_volume_stats_available_bytes", "kubelet_volume_stats_capacity_bytes"}

# Metrics the dashboard and rules use that no built service exposes yet. Each
# is listed, with who provides it, in deploy/monitoring/README.md.
PENDING_METRICS = {
    # Have series only once the scorer is given --alertmanager_url, which the
    # local launcher does not do (tests/scorer_alertmanager_test covers them).
    "georisk_alertmanager_requests_total",
    "georisk_alertmanager_queue_length",
    "georisk_alertmanager_alerts_firing",
    # Have series only once ingest is given --sources_config, which the local
    # launcher does not do (tests/scheduled_sources_test covers them).
    "georisk_source_last_success_timestamp_seconds",
    "georisk_source_last_attempt_timestamp_seconds",
    "georisk_source_interval_seconds",
    "georisk_source_failing",
}

GRAFANA_VARS = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h", "$namespace": "georisk"}

PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
                "and", "or", "unless", "inf", "nan", "atan2", "e", "le"}


def fill_vars(expr):
    for k, v in GRAFANA_VARS.items():
        expr = expr.replace("${" + k[1:] + "}", v).replace(k, v)
    return expr


def metric_names(expr):
    """The metric names a PromQL expression reads."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)              # strings
    e = re.sub(r"\{[^}]*\}", " ", e)                          # label matchers
    e = re.sub(r"\[[^\]]*\]", " ", e)                         # ranges
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    names = set()
    for m in re.finditer(r"(?<![\w$.])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?", e):
        word, call = m.group(1), m.group(2)
        if call or word.lower() in PROMQL_WORDS:
            continue
        names.add(word)
    return names


def scraped_names(path):
    names = set()
    for line in open(path):
        if line.startswith("# TYPE "):
            names.add(line.split()[2])
        elif line.strip() and not line.startswith("#"):
            names.add(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0))
    return names


def panels_of(dashboard):
    for p in dashboard.get("panels", []):
        yield p
        for inner in p.get("panels", []) or []:
            yield inner


def check_dashboard(dashboard):
    problems, exprs = [], []
    tvars = {v.get("name"): v for v in (dashboard.get("templating") or {}).get("list", [])}
    ds_var = tvars.get("datasource")
    if not ds_var or ds_var.get("type") != "datasource" or ds_var.get("query") != "prometheus":
        problems.append("no Prometheus datasource variable named 'datasource'")
    for v in tvars.values():
        q = v.get("query")
        if isinstance(q, dict) and q.get("query"):
            m = re.fullmatch(r"label_values\((.*),\s*\w+\)", q["query"])
            if m:
                exprs.append((f"variable {v['name']}", m.group(1)))
    if not dashboard.get("uid") or not dashboard.get("title"):
        problems.append("dashboard without uid or title")
    ids = set()
    for p in panels_of(dashboard):
        title = p.get("title", "?")
        if p.get("id") in ids:
            problems.append(f"panel {title!r}: duplicate id {p.get('id')}")
        ids.add(p.get("id"))
        g = p.get("gridPos") or {}
        if not g or g.get("x", 0) + g.get("w", 0) > 24:
            problems.append(f"panel {title!r}: no gridPos or wider than the grid")
        if p.get("type") == "row":
            continue
        ds = p.get("datasource") or {}
        if not isinstance(ds, dict) or ds.get("type") != "prometheus" or not ds.get("uid"):
            problems.append(f"panel {title!r}: no Prometheus datasource")
        targets = p.get("targets") or []
        if not targets:
            problems.append(f"panel {title!r}: no target")
        for t in targets:
            if not (t.get("datasource") or {}).get("uid"):
                problems.append(f"panel {title!r} target {t.get('refId')}: no datasource")
            if not (t.get("expr") or "").strip():
                problems.append(f"panel {title!r} target {t.get('refId')}: no expression")
            else:
                exprs.append((f"panel {title!r} target {t.get('refId')}", t["expr"]))
    return problems, exprs


def check_promql(exprs):
    """promtool parses each expression (as a recording rule)."""
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:expr_{i}", "expr": fill_vars(e)} for i, (_, e) in enumerate(exprs)]}]}
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump(rules, f)
    try:
        out = subprocess.run(["promtool", "check", "rules", f.name], capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    if out.returncode != 0:
        return [f"promtool rejects a dashboard expression: {out.stdout.strip()} {out.stderr.strip()}"]
    return []


def check_names(exprs, rules_exprs, exposed, readme):
    problems, notes = [], []
    used = set()
    for where, e in exprs + rules_exprs:
        for name in metric_names(fill_vars(e)):
            used.add(name)
            if name in exposed:
                continue
            if name in EXTERNAL_METRICS or name in PENDING_METRICS:
                continue
            problems.append(f"{where}: metric {name} is not exposed by any service")
    for name in sorted(PENDING_METRICS & used):
        if name in exposed:
            notes.append(f"{name} is now exposed: remove it from PENDING_METRICS and the README")
        else:
            notes.append(f"pending: {name}")
        if readme is not None and re.sub(r"_(bucket|sum|count)$", "", name) not in readme:
            problems.append(f"pending metric {name} is not listed in deploy/monitoring/README.md")
    families = {re.sub(r"_(bucket|sum|count)$", "", n) for n in used}
    unused = sorted(n for n in exposed if n.startswith("georisk_") and n not in used
                    and re.sub(r"_(bucket|sum|count)$", "", n) not in families)
    if unused:
        notes.append(f"exposed but on no panel or rule: {', '.join(unused)}")
    return problems, notes


def run(dashboard, rules, exposed, readme):
    problems, exprs = check_dashboard(dashboard)
    if exprs:
        problems += check_promql(exprs)
    rules_exprs = [(f"rule {r.get('alert') or r.get('record')}", r["expr"])
                   for g in rules["groups"] for r in g["rules"]]
    name_problems, notes = check_names(exprs, rules_exprs, exposed, readme)
    return problems + name_problems, notes


def self_test(dashboard, rules, exposed, readme):
    def panel(d, i):
        return [p for p in panels_of(d) if p.get("type") != "row"][i]

    breakages = {
        "a panel without a datasource": lambda d: panel(d, 0).pop("datasource"),
        "a target without an expression": lambda d: panel(d, 1)["targets"][0].update(expr=""),
        "a misspelt metric": lambda d: panel(d, 2)["targets"][0].update(
            expr="rate(grpc_server_handeld_total[5m])"),
        "an expression that does not parse": lambda d: panel(d, 3)["targets"][0].update(
            expr="sum by (le (rate(x[5m]))"),
        "a panel with no targets": lambda d: panel(d, 4).update(targets=[]),
        "no datasource variable": lambda d: d["templating"].update(list=[]),
    }
    failures = []
    for what, breakage in breakages.items():
        broken = copy.deepcopy(dashboard)
        breakage(broken)
        problems, _ = run(broken, rules, exposed, readme)
        if not problems:
            failures.append(f"self-test: {what} was not caught")
    return len(breakages), failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dashboard", required=True)
    ap.add_argument("--rules", required=True)
    ap.add_argument("--readme")
    ap.add_argument("--scrape", action="append", default=[])
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    dashboard = json.load(open(args.dashboard))
    rules = yaml.safe_load(open(args.rules))
    readme = open(args.readme).read() if args.readme else None
    exposed = set()
    for s in args.scrape:
        exposed |= scraped_names(s)
    problems, notes = run(dashboard, rules, exposed, readme)
    for n in notes:
        print(f"note: {n}")
    if args.self_test:
        count, failures = self_test(dashboard, rules, exposed, readme)
        problems += failures
        print(f"self-test: {count - len(failures)}/{count} breakages caught")
    for p in problems:
        print(f"FAIL: {p}")
    panels = sum(1 for p in panels_of(dashboard) if p.get("type") != "row")
    print(f"dashboard: {panels} panels; {len(exposed)} exposed series names; {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
