// File: services/georiskctl/cli.h
//
// What georiskctl's commands share: where the services are, how to reach
// them (TLS, tokens), how to print (human tables or JSON), and how a failed
// call becomes a clear message and an exit code.
//
// Addresses resolve in this order: the flag (--scorer=...), the environment
// (GEORISK_SCORER=...), the local launcher's endpoints file
// (.georisk/run/endpoints.env, or --endpoints_file), the default port on
// 127.0.0.1.
//
// Exit codes: 0 ok; 1 the request failed (NOT_FOUND, INVALID_ARGUMENT...) or
// something was rejected; 2 bad usage; 3 a service is not reachable.
#ifndef GEORISK_SERVICES_GEORISKCTL_CLI_H_
#define GEORISK_SERVICES_GEORISKCTL_CLI_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "grpcpp/channel.h"
#include "services/georiskctl/exit_codes.h"
#include "grpcpp/client_context.h"

namespace georisk::cli {

enum class Service { kGraphstore, kIngest, kScorer };

// The resolved address of a service (see above).
std::string Address(Service service);
// "graphstore", "ingest", "scorer".
const char* ServiceName(Service service);

// A channel to the service with the credential flags applied
// (--tls_ca, --tls_client_cert/--tls_client_key, --token_file).
absl::StatusOr<std::shared_ptr<grpc::Channel>> Channel(Service service);

// A client context with the --timeout deadline (none for streams).
std::unique_ptr<grpc::ClientContext> Context(bool stream = false);

// True when --output=json.
bool JsonOutput();
// Prints a message as JSON (protobuf's mapping, indented) on stdout.
void PrintJson(const google::protobuf::Message& message);

// Prints `status` of a call to `service` on stderr in plain words and
// returns the exit code for it.
int Fail(Service service, const absl::Status& status);
// Prints a usage error for `command` and returns kExitUsage.
int Usage(absl::string_view command, absl::string_view message);

// A left-aligned text table; numbers are right-aligned.
class Table {
 public:
  explicit Table(std::vector<std::string> header);
  void Add(std::vector<std::string> row);
  void Print() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// "12.3"; "-" for a negative value.
std::string Fixed(double value, int decimals = 1);
// Parses "export_controls" / "tariffs" / "cross_strait" / "composite".
absl::StatusOr<int> ParseFactor(absl::string_view text);
// "export controls", "tariffs", "cross-strait", "composite".
std::string FactorLabel(int factor);
// "low", "medium", "high", "critical".
std::string BandLabel(int band);
// Parses "company" / "facility".
absl::StatusOr<int> ParseKind(absl::string_view text);

}  // namespace georisk::cli

#endif  // GEORISK_SERVICES_GEORISKCTL_CLI_H_
