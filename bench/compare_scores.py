#!/usr/bin/python3
"""compare_scores.py: every score of two scorers, compared byte for byte.

    compare_scores.py --ids FILE --a HOST:PORT --b HOST:PORT [--tolerance 0]

FILE holds one entity id a line. Both scorers are asked BatchGetScores for
every id, 1,000 at a time, and each pair of Scores is compared as serialized
bytes after clearing what names the feed rather than the graph
(graph_sequence, graph_positions, as_of). Prints the counts, the first
differences, and the largest composite difference; exits 1 if any Score
differs (or, with --tolerance T, if a composite or factor differs by more
than T), 2 if a scorer failed to answer. Needs the generated stubs on
GEORISK_PY_STUBS (clients/python/generate.sh).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients", "python"))
try:
    from georisk_client import _stubs as pb  # noqa: E402
    import grpc  # noqa: E402
except ImportError as e:
    print(f"compare_scores: {e}")
    sys.exit(2)

BATCH = 1000


def normalised(score):
    s = pb.score_pb2.Score()
    s.CopyFrom(score)
    s.ClearField("graph_sequence")
    s.ClearField("graph_positions")
    s.ClearField("as_of")
    return s


def fetch(stub, ids):
    request = pb.scorer_pb2.BatchGetScoresRequest(entity_ids=ids, allow_missing=True)
    response = stub.BatchGetScores(request, timeout=120)
    return {s.entity_id: s for s in response.scores}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ids", required=True)
    parser.add_argument("--a", required=True)
    parser.add_argument("--b", required=True)
    parser.add_argument("--tolerance", type=float, default=0.0)
    args = parser.parse_args()
    with open(args.ids) as f:
        ids = [line.strip() for line in f if line.strip()]
    options = [("grpc.max_receive_message_length", 256 << 20)]
    a = pb.scorer_pb2_grpc.ScorerStub(grpc.insecure_channel(args.a, options=options))
    b = pb.scorer_pb2_grpc.ScorerStub(grpc.insecure_channel(args.b, options=options))
    equal = differ = missing = beyond = 0
    max_diff = 0.0
    shown = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        try:
            got_a, got_b = fetch(a, chunk), fetch(b, chunk)
        except grpc.RpcError as e:
            print(f"compare_scores: BatchGetScores failed: {e.code().name}: {e.details()}")
            return 2
        for entity in chunk:
            sa, sb = got_a.get(entity), got_b.get(entity)
            if sa is None or sb is None:
                if (sa is None) != (sb is None):
                    missing += 1
                    if shown < 5:
                        print(f"  {entity}: scored by {'b' if sa is None else 'a'} only")
                        shown += 1
                continue
            na, nb = normalised(sa), normalised(sb)
            if na.SerializeToString(deterministic=True) == nb.SerializeToString(deterministic=True):
                equal += 1
                continue
            differ += 1
            diff = abs(na.composite - nb.composite)
            for fa, fb in zip(na.factors, nb.factors):
                diff = max(diff, abs(fa.direct - fb.direct), abs(fa.propagated - fb.propagated))
            max_diff = max(max_diff, diff)
            if diff > args.tolerance:
                beyond += 1
            if shown < 5:
                print(f"  {entity}: composite {na.composite!r} against {nb.composite!r}")
                shown += 1
    print(f"RESULT compared={len(ids)}")
    print(f"RESULT equal={equal}")
    print(f"RESULT differ={differ}")
    print(f"RESULT one_sided={missing}")
    print(f"RESULT max_difference={max_diff!r}")
    print(f"RESULT beyond_tolerance={beyond}")
    if missing or (differ and args.tolerance == 0.0) or beyond:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
