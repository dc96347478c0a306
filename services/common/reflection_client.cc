#include "services/common/reflection_client.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "services/common/grpc_status.h"

namespace georisk::common {

absl::StatusOr<std::vector<std::string>> ListServices(absl::string_view target,
                                                      absl::Duration timeout) {
  namespace refl = grpc::reflection::v1alpha;
  auto channel = grpc::CreateChannel(std::string(target),
                                     grpc::InsecureChannelCredentials());
  auto stub = refl::ServerReflection::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  auto stream = stub->ServerReflectionInfo(&context);
  refl::ServerReflectionRequest request;
  request.set_list_services("*");
  if (!stream->Write(request)) return FromGrpcStatus(stream->Finish());
  stream->WritesDone();
  refl::ServerReflectionResponse response;
  std::vector<std::string> names;
  bool got = false;
  while (stream->Read(&response)) {
    if (response.has_error_response()) {
      return absl::InternalError(absl::StrCat(
          "reflection error ", response.error_response().error_code(), ": ",
          response.error_response().error_message()));
    }
    for (const auto& s : response.list_services_response().service()) {
      names.push_back(s.name());
    }
    got = true;
  }
  grpc::Status status = stream->Finish();
  if (!status.ok()) return FromGrpcStatus(status);
  if (!got) return absl::InternalError("reflection sent no answer");
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace georisk::common
