// graphstore: the supply-chain graph on RocksDB, with an atomic change feed.
#include <string>

#include "absl/flags/flag.h"
#include "services/common/main_support.h"
#include "services/common/metrics.h"
#include "services/common/server.h"
#include "services/common/server_flags.h"
#include "services/graphstore/graphstore_service.h"

ABSL_FLAG(std::string, data_dir, "",
          "Directory of the graph's RocksDB database. Required.");

int main(int argc, char** argv) {
  georisk::BlockShutdownSignals();
  georisk::InitMain("graphstore",
                    "georisk graphstore: the supply-chain graph on RocksDB.",
                    argc, argv);
  absl::StatusOr<georisk::ServerOptions> options =
      georisk::ServerOptionsFromFlags({"graphstore", 50051, 9464});
  if (!options.ok()) return georisk::ExitWithError(options.status());
  if (absl::GetFlag(FLAGS_data_dir).empty()) {
    return georisk::ExitWithError(
        absl::InvalidArgumentError("--data_dir: required"));
  }
  if (absl::Status s = georisk::EnsureDirectory(absl::GetFlag(FLAGS_data_dir));
      !s.ok()) {
    return georisk::ExitWithError(s);
  }

  georisk::GraphStoreService service;
  georisk::MetricsRegistry registry;
  auto server = georisk::GrpcServer::Start(
      *options, {{&service, georisk::v1::GraphStore::service_full_name()}},
      &registry);
  if (!server.ok()) return georisk::ExitWithError(server.status());
  (*server)->SetServing(true);
  return georisk::ServeUntilShutdownSignal(**server);
}
