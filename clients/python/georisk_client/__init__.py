"""georisk_client: a small Python client for the georisk gRPC API.

    from georisk_client import connect, Georisk, describe_error

    with connect("127.0.0.1:50053") as channel:
        georisk = Georisk(channel)
        for score in georisk.top_risks(limit=5).scores:
            print(score.entity_id, score.composite)

The generated messages and stubs are importable too, e.g.
``from georisk_client import scorer_pb2``. They are generated, never committed:
``clients/python/generate.sh`` writes them to ``clients/python/gen`` (found
automatically), or point ``GEORISK_PY_STUBS`` at another output folder.
"""

from georisk_client._stubs import (  # noqa: F401
    alert_pb2,
    alerts_pb2,
    alerts_pb2_grpc,
    graph_pb2,
    graphstore_pb2,
    graphstore_pb2_grpc,
    health_pb2,
    health_pb2_grpc,
    score_pb2,
    scorer_pb2,
    scorer_pb2_grpc,
)
from georisk_client.client import (  # noqa: F401
    Georisk,
    GeoriskError,
    NotReady,
    Unreachable,
    connect,
    describe_error,
    load_sequence,
    save_sequence,
)
