#!/usr/bin/python3
"""Prints the highest risks, then watches the alerts for a while.

    /usr/bin/python3 clients/python/examples/top_risks.py --scorer 127.0.0.1:50053 \
        [--limit 10] [--factor composite|export_controls|tariffs|cross_strait] \
        [--watch-seconds 10] [--state-file alerts.seq] [--alerts ADDR] \
        [--tls-ca ca.crt] [--token-file token] [--wait-scored 10]

Top risks come from Scorer.ListTopRisks. Alerts come from Alerts.WatchAlerts,
resumed from the sequence saved in --state-file (the last one seen, plus one),
or from the start of the log the first time; the last sequence seen is saved
again at the end. On Kubernetes --alerts may be the round-robin name
(scorer-headless.<ns>.svc.cluster.local:50053): the scorer replicas number
their alert logs alike (docs/alerts.md, "Numbering").

Exit codes: 0 done; 1 a service is unreachable or a call failed; 2 bad usage;
3 the scorer answers but cannot serve this yet (not implemented, still
loading, not scored yet).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from georisk_client import (  # noqa: E402
    Georisk,
    GeoriskError,
    NotReady,
    alert_pb2,
    connect,
    graph_pb2,
    load_sequence,
    save_sequence,
    score_pb2,
)

FACTORS = {
    "composite": graph_pb2.FACTOR_UNSPECIFIED,
    "export_controls": graph_pb2.FACTOR_EXPORT_CONTROLS,
    "tariffs": graph_pb2.FACTOR_TARIFFS,
    "cross_strait": graph_pb2.FACTOR_CROSS_STRAIT,
}


def short(enum_name, prefix=""):
    return enum_name[len(prefix):] if enum_name.startswith(prefix) else enum_name


def print_top_risks(georisk, args):
    factor = FACTORS[args.factor]
    response = georisk.top_risks(limit=args.limit, factor=factor, wait_scored_s=args.wait_scored)
    print(f"top risks ({args.factor}) from {georisk.target}:")
    if not response.scores:
        print("  none: no entity is scored yet")
        return
    print(f"  {'RANK':>4}  {'SCORE':>5}  {'BAND':<8}  {'KIND':<8}  {'CC':<2}  ENTITY")
    for rank, s in enumerate(response.scores, 1):
        value = s.composite
        if factor:
            value = next((f.propagated * 100 for f in s.factors if f.factor == factor), 0.0)
        band = short(score_pb2.Band.Name(s.band), "BAND_")
        kind = graph_pb2.Entity.Kind.Name(s.entity_kind)
        name = f" ({s.entity_name})" if s.entity_name else ""
        print(f"  {rank:>4}  {value:5.1f}  {band:<8}  {kind:<8}  {s.country or '--':<2}  {s.entity_id}{name}")
    last = response.scores[-1]
    print(f"  {len(response.scores)} of {response.total_size}; model {last.model_version or '?'}, "
          f"graph sequence {last.graph_sequence}")


def watch_alerts(georisk, args):
    saved = load_sequence(args.state_file) if args.state_file else 0
    start = saved + 1
    print(f"alerts from sequence {start} at {georisk.target} (watching {args.watch_seconds:g}s):")
    last_seen, count = saved, 0
    for response in georisk.watch_alerts(start, args.watch_seconds):
        for a in response.alerts:
            count += 1
            last_seen = max(last_seen, a.sequence)
            state = alert_pb2.Alert.State.Name(a.state)
            severity = short(alert_pb2.Severity.Name(a.severity), "SEVERITY_")
            bands = (f"{short(score_pb2.Band.Name(a.band_before), 'BAND_')}->"
                     f"{short(score_pb2.Band.Name(a.band_after), 'BAND_')}")
            reason = f"  {a.reasons[0]}" if a.reasons else ""
            print(f"  #{a.sequence} {state:<8} {severity:<8} {a.entity_id} [{a.rule_name}] {bands} "
                  f"{a.score_before:.1f}->{a.score_after:.1f}{reason}")
        # No filter: every record up to head has been delivered.
        last_seen = max(last_seen, response.head_sequence)
    print(f"  {count} alert records; last sequence {last_seen}")
    if args.state_file:
        save_sequence(args.state_file, last_seen)
        print(f"  saved: the next run resumes from {last_seen + 1}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scorer", required=True, help="scorer address, host:port or dns:///name:port")
    ap.add_argument("--alerts", help="address for the alert watch (default: --scorer)")
    ap.add_argument("--limit", type=int, default=10)
    ap.add_argument("--factor", choices=sorted(FACTORS), default="composite")
    ap.add_argument("--watch-seconds", type=float, default=10.0)
    ap.add_argument("--state-file", help="where the last alert sequence seen is kept")
    ap.add_argument("--tls-ca", help="PEM CA of the server's certificate (TLS)")
    ap.add_argument("--token-file", help="file holding a reader token")
    ap.add_argument("--wait-scored", type=float, default=10.0,
                    help="seconds to wait while the scorer has not scored the graph yet")
    ap.add_argument("--timeout", type=float, default=10.0, help="per-call deadline, seconds")
    args = ap.parse_args()
    if args.limit < 1 or args.limit > 1000 or args.watch_seconds < 0:
        ap.error("--limit must be 1..1000 and --watch-seconds >= 0")

    token = None
    if args.token_file:
        with open(args.token_file) as f:
            token = next((line.split()[0] for line in f if line.strip() and not line.startswith("#")), None)
        if not token:
            ap.error(f"--token-file {args.token_file}: no token in it")

    code = 0
    for step, target in ((print_top_risks, args.scorer), (watch_alerts, args.alerts or args.scorer)):
        label = "top risks" if step is print_top_risks else "alerts"
        with connect(target, tls_ca=args.tls_ca, token=token) as channel:
            georisk = Georisk(channel, target=target, timeout=args.timeout)
            try:
                georisk.health_status("")  # reachable at all? (a clear error if not)
                step(georisk, args)
            except NotReady as e:
                print(f"{label}: not available: {e}")
                code = max(code, e.exit_code)
            except GeoriskError as e:
                print(f"{label}: error: {e}", file=sys.stderr)
                return e.exit_code
    return code


if __name__ == "__main__":
    sys.exit(main())
