"""Finds and imports the generated stubs (see clients/python/generate.sh).

Search order: the folder named by GEORISK_PY_STUBS, then clients/python/gen
beside this package, then whatever is already on sys.path (e.g. Bazel's
genrule output on PYTHONPATH).
"""

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
for _candidate in (os.environ.get("GEORISK_PY_STUBS"), os.path.join(_HERE, "..", "gen")):
    if _candidate and os.path.isdir(os.path.join(_candidate, "georisk", "v1")):
        _candidate = os.path.abspath(_candidate)
        if _candidate not in sys.path:
            sys.path.insert(0, _candidate)
        break

try:
    from georisk.v1 import alert_pb2  # noqa: E402,F401
    from georisk.v1 import alerts_pb2, alerts_pb2_grpc  # noqa: E402,F401
    from georisk.v1 import graph_pb2  # noqa: E402,F401
    from georisk.v1 import graphstore_pb2, graphstore_pb2_grpc  # noqa: E402,F401
    from georisk.v1 import score_pb2  # noqa: E402,F401
    from georisk.v1 import scorer_pb2, scorer_pb2_grpc  # noqa: E402,F401
    from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: E402,F401
except ImportError as e:  # pragma: no cover - depends on the machine
    raise ImportError(
        f"georisk_client: the generated stubs are missing ({e}). Run "
        "clients/python/generate.sh, or set GEORISK_PY_STUBS to its --out folder. "
        "Use Debian's /usr/bin/python3 (python3-grpcio, python3-protobuf)."
    ) from e
