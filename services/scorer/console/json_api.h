// File: services/scorer/console/json_api.h
//
// JsonApi: the console's JSON API, the protobuf JSON mapping of the same
// gRPC methods. `POST /api/v1/scorer/ListTopRisks` with a
// georisk.v1.ListTopRisksRequest as JSON in the body is answered with the
// georisk.v1.ListTopRisksResponse as JSON: the body is parsed into the
// method's request message (google::protobuf::util::JsonStringToMessage),
// sent as a unary gRPC call over a channel to the scorer's own server (in
// process, so the same service implementation, validation, interceptors and
// metrics answer it), and the response printed back
// (MessageToJsonString: lowerCamelCase names, enums by name, fields at their
// default printed too).
//
// Errors are {"code": <gRPC code number>, "status": "<CODE_NAME>",
// "message": "..."} with the HTTP status grpc-gateway gives the code
// (HttpStatusFromGrpc): a body that is not the request message as JSON is
// 400 INVALID_ARGUMENT naming the field at fault (protobuf names it by its
// proto name: "(page_size): invalid value"), an unknown or streaming
// method 404 NOT_FOUND.
//
//   JsonApi api({"georisk.v1.Scorer", "georisk.v1.Alerts"});
//   const google::protobuf::MethodDescriptor* method =
//       api.Find("scorer", "ListTopRisks");  // nullptr: 404
//   JsonApi::Reply reply = api.Call(channel, method, R"({"pageSize": 10})",
//                                   "Bearer ...", absl::Seconds(30));
//   // reply.http_status == 200, reply.body == {"scores": [...], ...}
//
// Thread-safe.
#ifndef GEORISK_SERVICES_SCORER_CONSOLE_JSON_API_H_
#define GEORISK_SERVICES_SCORER_CONSOLE_JSON_API_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/channel.h"
#include "grpcpp/support/status.h"

namespace georisk::scorer::console {

// The HTTP status for a gRPC status code, as grpc-gateway maps them: OK 200,
// INVALID_ARGUMENT, FAILED_PRECONDITION and OUT_OF_RANGE 400,
// UNAUTHENTICATED 401, PERMISSION_DENIED 403, NOT_FOUND 404, ALREADY_EXISTS
// and ABORTED 409, RESOURCE_EXHAUSTED 429, CANCELLED 499, UNIMPLEMENTED 501,
// UNAVAILABLE 503, DEADLINE_EXCEEDED 504, the others 500.
int HttpStatusFromGrpc(grpc::StatusCode code);

// "INVALID_ARGUMENT" for grpc::StatusCode::INVALID_ARGUMENT, etc.
absl::string_view GrpcCodeName(grpc::StatusCode code);

// The JSON error body: {"code": 3, "status": "INVALID_ARGUMENT",
// "message": "..."}.
std::string ErrorJson(grpc::StatusCode code, absl::string_view message);

class JsonApi {
 public:
  struct Reply {
    int http_status = 200;
    std::string body;  // JSON: the response message, or ErrorJson().
  };

  // Serves the unary methods of `services` (full names from the generated
  // descriptor pool, e.g. "georisk.v1.Scorer"), each under the lower-cased
  // last part of its name ("scorer"). A name the pool does not know is
  // skipped.
  explicit JsonApi(const std::vector<std::string>& services);

  // The unary method `service`/`method` ("scorer", "ListTopRisks"), or
  // nullptr.
  const google::protobuf::MethodDescriptor* Find(
      absl::string_view service, absl::string_view method) const;

  // Calls `method` (from Find) over `channel` with `json` (empty means
  // "{}") as its request, within `deadline`; `authorization`, if not empty,
  // is passed on as the call's authorization metadata.
  Reply Call(const std::shared_ptr<grpc::Channel>& channel,
             const google::protobuf::MethodDescriptor* method,
             absl::string_view json, const std::string& authorization,
             absl::Duration deadline) const;

 private:
  std::map<std::string, const google::protobuf::ServiceDescriptor*, std::less<>>
      services_;
};

}  // namespace georisk::scorer::console

#endif  // GEORISK_SERVICES_SCORER_CONSOLE_JSON_API_H_
