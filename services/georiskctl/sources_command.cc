#include "services/georiskctl/sources_command.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/proto_time.h"
#include "georisk/v1/ingest.grpc.pb.h"
#include "services/common/grpc_status.h"
#include "services/georiskctl/exit_codes.h"

namespace georisk::cli {
namespace {

std::string When(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "never";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", base::FromProtoTime(t),
                          absl::UTCTimeZone());
}

void PrintTable(
    std::FILE* out,
    const google::protobuf::RepeatedPtrField<v1::SourceStatus>& sources) {
  Table table({"source", "mode", "every", "last success", "last attempt",
               "records", "changes", "next run", "error"});
  for (const v1::SourceStatus& s : sources) {
    table.Add({s.name(), s.mode(), s.interval(), When(s.last_success()),
               When(s.last_attempt()), absl::StrCat(s.records()),
               absl::StrCat(s.changes()), When(s.next_run()),
               s.failing() ? s.error() : (s.in_progress() ? "(running)" : "")});
  }
  table.Print(out);
}

}  // namespace

int SourcesCommand(const ClientOptions& o,
                   const std::vector<std::string>& args) {
  const bool run = !args.empty() && args[0] == "run";
  if (!(args.empty() || (run && args.size() == 2))) {
    return Usage(o, "sources", "give nothing, or run NAME");
  }
  auto channel = Channel(o, Service::kIngest);
  if (!channel.ok()) return Usage(o, "sources", channel.status().message());
  auto stub = v1::Ingest::NewStub(*channel);
  if (!run) {
    v1::ListSourcesResponse response;
    auto context = Context(o);
    const grpc::Status s =
        stub->ListSources(context.get(), v1::ListSourcesRequest(), &response);
    if (!s.ok()) return Fail(o, Service::kIngest, common::FromGrpcStatus(s));
    if (JsonOutput(o)) {
      PrintJson(o.out, response);
    } else if (response.sources().empty()) {
      std::fprintf(o.out,
                   "no scheduled sources (ingest runs without "
                   "--sources_config)\n");
    } else {
      PrintTable(o.out, response.sources());
    }
    return kExitOk;
  }
  v1::RunSourceRequest request;
  request.set_name(args[1]);
  v1::RunSourceResponse response;
  auto context = Context(o, /*stream=*/true);  // No deadline: it imports.
  const grpc::Status s = stub->RunSource(context.get(), request, &response);
  if (!s.ok()) return Fail(o, Service::kIngest, common::FromGrpcStatus(s));
  if (JsonOutput(o)) {
    PrintJson(o.out, response);
  } else {
    google::protobuf::RepeatedPtrField<v1::SourceStatus> one;
    *one.Add() = response.source();
    PrintTable(o.out, one);
  }
  return response.source().failing() ? kExitFailed : kExitOk;
}

}  // namespace georisk::cli
