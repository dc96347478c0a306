#include "services/common/grpc_probe.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "services/common/grpc_status.h"

namespace georisk::common {

absl::StatusOr<HealthState> CheckHealth(absl::string_view target,
                                        absl::string_view service,
                                        absl::Duration timeout) {
  auto channel = grpc::CreateChannel(std::string(target),
                                     grpc::InsecureChannelCredentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(std::string(service));
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
      response.status());
}

absl::Status WaitForServing(absl::string_view target, absl::string_view service,
                            absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string last = "no answer";
  absl::Duration backoff = absl::Milliseconds(20);
  while (true) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    absl::StatusOr<HealthState> state =
        CheckHealth(target, service, std::min(left, absl::Seconds(2)));
    if (state.ok() && *state == "SERVING") return absl::OkStatus();
    last = state.ok() ? *state : state.status().ToString();
    absl::SleepFor(std::min(
        backoff, std::max(deadline - absl::Now(), absl::ZeroDuration())));
    backoff = std::min(backoff * 2, absl::Milliseconds(500));
  }
  return absl::DeadlineExceededError(
      absl::StrCat(target, " (service \"", service, "\") not SERVING after ",
                   absl::FormatDuration(timeout), "; last: ", last));
}

}  // namespace georisk::common
