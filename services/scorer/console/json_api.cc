// File: services/scorer/console/json_api.cc
//
// JsonApi over grpc::TemplatedGenericStub; see json_api.h.

#include "services/scorer/console/json_api.h"

#include <chrono>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/message.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/client_context.h"
#include "grpcpp/generic/generic_stub.h"
// SerializationTraits for protobuf messages, which the generic stub needs.
#include "grpcpp/impl/codegen/proto_utils.h"

namespace georisk::scorer::console {
namespace {

using google::protobuf::Message;
using google::protobuf::MethodDescriptor;

std::unique_ptr<Message> NewMessage(
    const google::protobuf::Descriptor* descriptor) {
  const Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(
          descriptor);
  return std::unique_ptr<Message>(prototype->New());
}

JsonApi::Reply Error(grpc::StatusCode code, absl::string_view message) {
  return {HttpStatusFromGrpc(code), ErrorJson(code, message)};
}

}  // namespace

int HttpStatusFromGrpc(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return 200;
    case grpc::StatusCode::CANCELLED:
      return 499;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
      return 400;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 504;
    case grpc::StatusCode::NOT_FOUND:
      return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
      return 409;
    case grpc::StatusCode::PERMISSION_DENIED:
      return 403;
    case grpc::StatusCode::UNAUTHENTICATED:
      return 401;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::StatusCode::UNIMPLEMENTED:
      return 501;
    case grpc::StatusCode::UNAVAILABLE:
      return 503;
    default:  // UNKNOWN, INTERNAL, DATA_LOSS and codes outside the list.
      return 500;
  }
}

absl::string_view GrpcCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN";
  }
}

std::string ErrorJson(grpc::StatusCode code, absl::string_view message) {
  // The message is escaped by protobuf's printer, as a google.protobuf.Value;
  // the object is written here so that its keys keep their order.
  google::protobuf::Value text;
  text.set_string_value(std::string(message));
  std::string escaped;
  (void)google::protobuf::util::MessageToJsonString(text, &escaped);
  return absl::StrCat("{\"code\":", static_cast<int>(code), ",\"status\":\"",
                      GrpcCodeName(code), "\",\"message\":", escaped, "}");
}

JsonApi::JsonApi(const std::vector<std::string>& services) {
  for (const std::string& name : services) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            name);
    if (service == nullptr) continue;
    services_[absl::AsciiStrToLower(service->name())] = service;
  }
}

const MethodDescriptor* JsonApi::Find(absl::string_view service,
                                      absl::string_view method) const {
  auto it = services_.find(service);
  if (it == services_.end()) return nullptr;
  const MethodDescriptor* m = it->second->FindMethodByName(std::string(method));
  if (m == nullptr || m->client_streaming() || m->server_streaming()) {
    return nullptr;
  }
  return m;
}

JsonApi::Reply JsonApi::Call(const std::shared_ptr<grpc::Channel>& channel,
                             const MethodDescriptor* method,
                             absl::string_view json,
                             const std::string& authorization,
                             absl::Duration deadline) const {
  std::unique_ptr<Message> request = NewMessage(method->input_type());
  if (json.empty()) json = "{}";
  google::protobuf::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = false;
  auto parsed = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), request.get(),
      parse);
  if (!parsed.ok()) {
    // protobuf names the field: "invalid JSON in georisk.v1.X @ pageSize:
    // ..." or "Cannot find field: bogus".
    return Error(grpc::StatusCode::INVALID_ARGUMENT,
                 absl::StrCat("body: not a ", method->input_type()->full_name(),
                              " as JSON: ", std::string(parsed.message())));
  }

  std::unique_ptr<Message> response = NewMessage(method->output_type());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoMilliseconds(deadline));
  if (!authorization.empty()) {
    context.AddMetadata("authorization", authorization);
  }
  grpc::TemplatedGenericStub<Message, Message> stub(channel);
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(
      &context,
      absl::StrCat("/", method->service()->full_name(), "/", method->name()),
      grpc::StubOptions(), request.get(), response.get(), [&](grpc::Status s) {
        status = std::move(s);
        done.Notify();
      });
  done.WaitForNotification();
  if (!status.ok()) return Error(status.error_code(), status.error_message());

  google::protobuf::util::JsonPrintOptions print;
  print.always_print_primitive_fields = true;
  std::string out;
  auto printed =
      google::protobuf::util::MessageToJsonString(*response, &out, print);
  if (!printed.ok()) {
    return Error(grpc::StatusCode::INTERNAL,
                 absl::StrCat("response not printable as JSON: ",
                              std::string(printed.message())));
  }
  return {200, std::move(out)};
}

}  // namespace georisk::scorer::console
