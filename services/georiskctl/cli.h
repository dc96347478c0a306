// File: services/georiskctl/cli.h
//
// What georiskctl's commands share: where the services are, how to reach
// them (TLS, tokens), how to print (human tables or JSON), and how a failed
// call becomes a clear message and an exit code.
//
// Everything here reads its settings from a ClientOptions (main.cc fills one
// from the flags); nothing reads a flag.
//
//   ClientOptions client;
//   client.scorer = "127.0.0.1:50053";
//   auto channel = Channel(client, Service::kScorer);
//   if (!channel.ok()) return Usage(client, "score", ...);
//
// Addresses resolve in this order: the option (--scorer=...), the
// environment (GEORISK_SCORER=...), the local launcher's endpoints file
// (.georisk/run/endpoints.env, or --endpoints_file), the default port on
// 127.0.0.1. The graphstore shards' list (--graphstore_shards,
// GEORISK_GRAPHSTORE_SHARDS) resolves the same way, without a default.
//
// Exit codes (exit_codes.h): 0 ok; 1 the request failed (NOT_FOUND,
// INVALID_ARGUMENT...) or something was rejected; 2 bad usage; 3 a service
// is not reachable.
//
// Thread-safety: the functions are thread-safe as long as the ClientOptions
// they read is not modified meanwhile; a Table is not.
#ifndef GEORISK_SERVICES_GEORISKCTL_CLI_H_
#define GEORISK_SERVICES_GEORISKCTL_CLI_H_

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "services/georiskctl/exit_codes.h"

namespace georisk::cli {

enum class Service { kGraphstore, kIngest, kScorer };

// What every command shares: where the services are, the credentials, the
// deadline, the output format and where output goes.
struct ClientOptions {
  // Addresses (host:port) of the services; empty: resolved as above.
  // Defaults: "".
  std::string graphstore;
  std::string ingest;
  std::string scorer;
  // The gRPC targets of every graphstore shard of a partitioned graphstore,
  // comma-separated, shard 0 first (docs/scale-out.md); empty: resolved as
  // the addresses are, from GEORISK_GRAPHSTORE_SHARDS (environment, then
  // the endpoints file), else none (an unpartitioned graphstore). Read by
  // status. Default "".
  std::string graphstore_shards;
  // The local launcher's list of addresses, used when neither the option
  // nor GEORISK_<SERVICE> gives one. Default: ".georisk/run/endpoints.env".
  std::string endpoints_file = ".georisk/run/endpoints.env";
  // PEM CA bundle: talk TLS to the services. Default "": plaintext.
  std::string tls_ca;
  // PEM client certificate and its key (mutual TLS). Default "": none.
  std::string tls_client_cert;
  std::string tls_client_key;
  // File with a bearer token (reader for scores and alerts, writer for
  // import). Default "": no token.
  std::string token_file;
  // Per-call deadline (not for streams). Default 30 s.
  absl::Duration timeout = absl::Seconds(30);
  // "json" (protobuf's JSON mapping) or anything else for human tables.
  // Default "table".
  std::string output = "table";
  // Where results go, and where errors and notes go. Not owned; defaults
  // stdout and stderr.
  std::FILE* out = stdout;
  std::FILE* err = stderr;
};

// The address of a service that is not part of the deployment (the local
// launcher's scorer while it does not follow shards): status shows it as
// not deployed; other commands fail to reach it.
inline constexpr char kNotDeployed[] = "none";

// The resolved address of a service (see above).
std::string Address(const ClientOptions& options, Service service);
// The graphstore shards' targets (see graphstore_shards above), shard 0
// first; empty when none is given anywhere. Blank entries are dropped.
std::vector<std::string> GraphstoreShards(const ClientOptions& options);
// "graphstore", "ingest", "scorer".
const char* ServiceName(Service service);

// A channel to the service with the credential options applied (tls_ca,
// tls_client_cert/tls_client_key, token_file). Errors: those of
// common::MakeChannel (InvalidArgument / NotFound for unreadable files).
absl::StatusOr<std::shared_ptr<grpc::Channel>> Channel(
    const ClientOptions& options, Service service);
// The same to an explicit target (a graphstore shard).
absl::StatusOr<std::shared_ptr<grpc::Channel>> ChannelTo(
    const ClientOptions& options, const std::string& target);

// A client context with the `timeout` deadline (none for streams). The
// caller owns it.
std::unique_ptr<grpc::ClientContext> Context(const ClientOptions& options,
                                             bool stream = false);

// True when output == "json".
bool JsonOutput(const ClientOptions& options);
// `s` as a JSON string literal, quoted and escaped: a"b gives "a\"b".
std::string JsonQuoted(const std::string& s);
// Prints a message as JSON (protobuf's mapping, indented) on `out`.
void PrintJson(std::FILE* out, const google::protobuf::Message& message);

// Prints `status` of a call to `service` on options.err in plain words and
// returns the exit code for it: kExitUnavailable for UNAVAILABLE and
// DEADLINE_EXCEEDED, else kExitFailed.
int Fail(const ClientOptions& options, Service service,
         const absl::Status& status);
// Prints a usage error for `command` on options.err and returns kExitUsage.
int Usage(const ClientOptions& options, absl::string_view command,
          absl::string_view message);

// A left-aligned text table; numbers are right-aligned.
class Table {
 public:
  explicit Table(std::vector<std::string> header);
  void Add(std::vector<std::string> row);
  // Writes the header and the rows to `out`.
  void Print(std::FILE* out) const;

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
