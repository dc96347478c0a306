// ingest: validates, normalises and de-duplicates records and applies them
// to graphstore in batches.
#include <cstdint>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "services/common/channel.h"
#include "services/common/client_flags.h"
#include "services/common/main_support.h"
#include "services/common/metrics.h"
#include "services/common/server.h"
#include "services/common/server_flags.h"
#include "services/ingest/ingest_service.h"

// --graphstore and its TLS/token flags: services/common/client_flags.h.
ABSL_FLAG(int, batch_size, 1000, "Records per GraphStore.Apply call.");
ABSL_FLAG(int64_t, max_in_flight_records, 10000,
          "Records of one stream awaiting graphstore before ingest stops "
          "reading it; also the most records one message may carry.");
ABSL_FLAG(absl::Duration, apply_deadline, absl::Seconds(30),
          "Deadline of each graphstore call.");
ABSL_FLAG(absl::Duration, retry_deadline, absl::Seconds(60),
          "How long a graphstore call is retried while graphstore is "
          "unavailable before the stream fails with UNAVAILABLE.");
ABSL_FLAG(int, max_concurrent_calls, 32,
          "Ingest/IngestBatch calls at once; more get RESOURCE_EXHAUSTED.");

int main(int argc, char** argv) {
  georisk::common::BlockShutdownSignals();
  georisk::common::InitMain("ingest", "georisk ingest: the front door for data.", argc,
                    argv);
  absl::StatusOr<georisk::common::ServerOptions> options =
      georisk::common::ServerOptionsFromFlags({"ingest", 50052, 9465});
  if (!options.ok()) return georisk::common::ExitWithError(options.status());

  georisk::ingest::IngestServiceOptions ingest_options;
  ingest_options.session.batch_size = absl::GetFlag(FLAGS_batch_size);
  ingest_options.max_in_flight_records =
      absl::GetFlag(FLAGS_max_in_flight_records);
  ingest_options.applier.call_deadline = absl::GetFlag(FLAGS_apply_deadline);
  ingest_options.applier.retry_deadline = absl::GetFlag(FLAGS_retry_deadline);
  ingest_options.max_concurrent_calls =
      absl::GetFlag(FLAGS_max_concurrent_calls);
  if (ingest_options.session.batch_size < 1 ||
      ingest_options.max_in_flight_records < 1 ||
      ingest_options.max_concurrent_calls < 1) {
    return georisk::common::ExitWithError(absl::InvalidArgumentError(
        "--batch_size, --max_in_flight_records and --max_concurrent_calls "
        "must be >= 1"));
  }
  if (ingest_options.applier.call_deadline <= absl::ZeroDuration() ||
      ingest_options.applier.retry_deadline < absl::ZeroDuration()) {
    return georisk::common::ExitWithError(absl::InvalidArgumentError(
        "--apply_deadline must be > 0 and --retry_deadline >= 0"));
  }

  absl::StatusOr<georisk::common::ChannelOptions> channel_options =
      georisk::common::GraphstoreChannelOptionsFromFlags();
  if (!channel_options.ok()) {
    return georisk::common::ExitWithError(channel_options.status());
  }
  auto channel = georisk::common::MakeChannel(*channel_options);
  if (!channel.ok()) return georisk::common::ExitWithError(channel.status());

  georisk::common::MetricsRegistry registry;
  georisk::ingest::IngestService service(georisk::v1::GraphStore::NewStub(*channel),
                                 ingest_options, &registry);
  auto server = georisk::common::GrpcServer::Start(
      *options, {{&service, georisk::v1::Ingest::service_full_name()}},
      &registry);
  if (!server.ok()) return georisk::common::ExitWithError(server.status());
  (*server)->AddShutdownHook([&service] { service.Shutdown(); });
  (*server)->SetServing(true);
  return georisk::common::ServeUntilShutdownSignal(**server);
}
