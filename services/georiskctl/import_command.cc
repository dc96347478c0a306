#include "services/georiskctl/import_command.h"

#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "services/georiskctl/cli.h"

namespace georisk::cli {

int ImportCommand(const ClientOptions& client, ImportOptions options) {
  options.ingest_address = Address(client, Service::kIngest);
  options.out = client.out;
  options.err = client.err;
  options.json = JsonOutput(client);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      Channel(client, Service::kIngest);
  if (!channel.ok()) {
    std::fprintf(client.err, "georiskctl import: %s\n",
                 std::string(channel.status().message()).c_str());
    return kExitUsage;
  }
  options.channel = *channel;
  return RunImport(options);
}

}  // namespace georisk::cli
