// scorer: follows graphstore's change feed, scores every entity, explains,
// runs scenarios and raises alerts.
#include <string>

#include "absl/flags/flag.h"
#include "services/common/main_support.h"
#include "services/common/metrics.h"
#include "services/common/server.h"
#include "services/common/server_flags.h"
#include "services/scorer/scorer_service.h"

ABSL_FLAG(std::string, graphstore, "127.0.0.1:50051",
          "graphstore address (a gRPC target, e.g. dns:///graphstore:50051).");
ABSL_FLAG(std::string, data_dir, "",
          "Directory of the scorer's own RocksDB (applied sequence, alert "
          "log). Required.");

int main(int argc, char** argv) {
  georisk::BlockShutdownSignals();
  georisk::InitMain("scorer", "georisk scorer: risk scores and alerts.", argc,
                    argv);
  absl::StatusOr<georisk::ServerOptions> options =
      georisk::ServerOptionsFromFlags({"scorer", 50053, 9466});
  if (!options.ok()) return georisk::ExitWithError(options.status());
  if (absl::GetFlag(FLAGS_data_dir).empty()) {
    return georisk::ExitWithError(
        absl::InvalidArgumentError("--data_dir: required"));
  }
  if (absl::Status s = georisk::EnsureDirectory(absl::GetFlag(FLAGS_data_dir));
      !s.ok()) {
    return georisk::ExitWithError(s);
  }

  georisk::ScorerService scorer;
  georisk::AlertsService alerts;
  georisk::MetricsRegistry registry;
  auto server = georisk::GrpcServer::Start(
      *options,
      {{&scorer, georisk::v1::Scorer::service_full_name()},
       {&alerts, georisk::v1::Alerts::service_full_name()}},
      &registry);
  if (!server.ok()) return georisk::ExitWithError(server.status());
  (*server)->SetServing(true);
  return georisk::ServeUntilShutdownSignal(**server);
}
