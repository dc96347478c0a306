"""Loads a tiny supply chain into graphstore (GraphStore.Apply) for the tests.

    /usr/bin/python3 tests/georisk_seed.py GRAPHSTORE_ADDR

Three companies, a Taiwanese fab, the edges between them, a cross-strait
tension signal and an export-control listing. Prints "applied sequence N".
Needs the generated stubs on PYTHONPATH (clients/python/generate.sh).
"""

import sys

import grpc
from google.protobuf import timestamp_pb2

from georisk.v1 import graph_pb2, graphstore_pb2, graphstore_pb2_grpc

SEED_ENTITIES = ["company/acme-ai", "company/hsinchu-foundry", "company/listed-parts",
                 "facility/hsinchu-fab-1"]


def mutations():
    start = timestamp_pb2.Timestamp(seconds=1735689600)  # 2025-01-01
    E, K = graph_pb2.Entity, graph_pb2.Edge
    src = "georisk test fixture (tests/georisk_seed.py)"
    entities = [
        E(id="company/acme-ai", kind=E.COMPANY, name="Acme AI", country="US", source=src),
        E(id="company/hsinchu-foundry", kind=E.COMPANY, name="Hsinchu Foundry", country="TW", source=src),
        E(id="company/listed-parts", kind=E.COMPANY, name="Listed Parts", country="CN", source=src),
        E(id="facility/hsinchu-fab-1", kind=E.FACILITY, name="Hsinchu Fab 1", country="TW",
          region="TW-HSQ", facility_type=E.FAB, product_codes=["854231"], source=src),
    ]
    edges = [
        K(from_id="company/hsinchu-foundry", to_id="facility/hsinchu-fab-1", kind=K.OPERATES,
          weight=0.8, effective_from=start, source=src),
        K(from_id="facility/hsinchu-fab-1", to_id="company/acme-ai", kind=K.SUPPLIES, weight=0.7,
          product_code="854231", effective_from=start, source=src),
        K(from_id="company/listed-parts", to_id="company/acme-ai", kind=K.SUPPLIES, weight=0.3,
          product_code="854231", effective_from=start, source=src),
    ]
    signals = [
        graph_pb2.Signal(id="signal/tension-cross-strait", title="Cross-strait tension",
                         tension=graph_pb2.Tension(theatre="cross_strait", level=0.6,
                                                   country_weights={"TW": 1.0, "CN": 0.5}),
                         effective_from=start, source=src),
        graph_pb2.Signal(id="signal/listing-listed-parts", title="Entity List: Listed Parts",
                         export_control=graph_pb2.ExportControl(
                             authority="US-BIS", kind=graph_pb2.ExportControl.ENTITY_LISTING,
                             target_ids=["company/listed-parts"], severity=0.9, list="EL"),
                         effective_from=start, source=src),
    ]
    return ([graph_pb2.Mutation(upsert_entity=e) for e in entities] +
            [graph_pb2.Mutation(upsert_edge=e) for e in edges] +
            [graph_pb2.Mutation(upsert_signal=s) for s in signals])


def main():
    target = sys.argv[1]
    with grpc.insecure_channel(target) as channel:
        stub = graphstore_pb2_grpc.GraphStoreStub(channel)
        response = stub.Apply(graphstore_pb2.ApplyRequest(mutations=mutations(), origin="test"),
                              timeout=10)
    print(f"applied sequence {response.sequence}")


if __name__ == "__main__":
    main()
