// File: services/graphstore/graphstore_service.h
//
// GraphStoreService: the gRPC face of the graph store (georisk.v1.GraphStore).
// Filled in by the graphstore issue on top of storage/graph_store.h; until
// then every RPC answers UNIMPLEMENTED.
#ifndef GEORISK_SERVICES_GRAPHSTORE_GRAPHSTORE_SERVICE_H_
#define GEORISK_SERVICES_GRAPHSTORE_GRAPHSTORE_SERVICE_H_

#include "georisk/v1/graphstore.grpc.pb.h"

namespace georisk {

class GraphStoreService final : public v1::GraphStore::CallbackService {};

}  // namespace georisk

#endif  // GEORISK_SERVICES_GRAPHSTORE_GRAPHSTORE_SERVICE_H_
