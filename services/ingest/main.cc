// ingest: validates, normalises and de-duplicates records and applies them
// to graphstore in batches.
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "services/common/main_support.h"
#include "services/common/metrics.h"
#include "services/common/server.h"
#include "services/common/server_flags.h"
#include "services/ingest/ingest_service.h"

ABSL_FLAG(std::string, graphstore, "127.0.0.1:50051",
          "graphstore address (a gRPC target, e.g. dns:///graphstore:50051).");

int main(int argc, char** argv) {
  georisk::BlockShutdownSignals();
  georisk::InitMain("ingest", "georisk ingest: the front door for data.", argc,
                    argv);
  absl::StatusOr<georisk::ServerOptions> options =
      georisk::ServerOptionsFromFlags({"ingest", 50052, 9465});
  if (!options.ok()) return georisk::ExitWithError(options.status());

  std::shared_ptr<grpc::Channel> channel = grpc::CreateChannel(
      absl::GetFlag(FLAGS_graphstore), grpc::InsecureChannelCredentials());
  georisk::IngestService service(georisk::v1::GraphStore::NewStub(channel));

  georisk::MetricsRegistry registry;
  auto server = georisk::GrpcServer::Start(
      *options, {{&service, georisk::v1::Ingest::service_full_name()}},
      &registry);
  if (!server.ok()) return georisk::ExitWithError(server.status());
  (*server)->SetServing(true);
  return georisk::ServeUntilShutdownSignal(**server);
}
