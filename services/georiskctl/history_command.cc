#include "services/georiskctl/history_command.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/proto_time.h"
#include "georisk/v1/scorer.grpc.pb.h"
#include "services/common/grpc_status.h"
#include "services/georiskctl/cli.h"

namespace georisk::cli {
namespace {

// The value a row shows and the sparkline draws: the composite, or the
// factor's propagated score x 100.
double Value(const v1::ScoreHistoryPoint& p, int factor) {
  if (factor == v1::FACTOR_UNSPECIFIED) return p.composite();
  for (const auto& f : p.factors()) {
    if (f.factor() == factor) return 100 * f.propagated();
  }
  return 0;
}

}  // namespace

std::string Sparkline(const std::vector<double>& values) {
  static const char* const kBlocks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  std::string out;
  for (double v : values) {
    int i = static_cast<int>(std::clamp(v, 0.0, 100.0) / 100.0 * 7 + 0.5);
    out += kBlocks[i];
  }
  return out;
}

int HistoryCommand(const CommandOptions& o,
                   const std::vector<std::string>& args) {
  if (args.size() != 1) {
    return Usage(o.client, "history", "give one entity id");
  }
  auto factor = ParseFactor(o.factor);
  if (!factor.ok()) {
    return Usage(o.client, "history", factor.status().message());
  }
  auto channel = Channel(o.client, Service::kScorer);
  if (!channel.ok()) {
    return Usage(o.client, "history", channel.status().message());
  }
  auto stub = v1::Scorer::NewStub(*channel);
  v1::GetScoreHistoryRequest request;
  request.set_entity_id(args[0]);
  request.set_factor(static_cast<v1::Factor>(*factor));
  if (o.from.has_value()) *request.mutable_from() = base::ToProtoTime(*o.from);
  if (o.to.has_value()) *request.mutable_to() = base::ToProtoTime(*o.to);
  if (o.as_of.has_value()) {
    *request.mutable_as_of() = base::ToProtoTime(*o.as_of);
  }
  request.set_page_size(1000);
  v1::GetScoreHistoryResponse all;
  all.set_entity_id(args[0]);
  do {
    v1::GetScoreHistoryResponse page;
    auto context = Context(o.client);
    grpc::Status s = stub->GetScoreHistory(context.get(), request, &page);
    if (!s.ok()) {
      return Fail(o.client, Service::kScorer, common::FromGrpcStatus(s));
    }
    for (auto& p : *page.mutable_points()) *all.add_points() = std::move(p);
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  if (JsonOutput(o.client)) {
    PrintJson(o.client.out, all);
    return kExitOk;
  }
  std::vector<double> values;
  for (const auto& p : all.points()) {
    if (!p.deleted()) values.push_back(Value(p, *factor));
  }
  std::fprintf(o.client.out, "%s  %s %s  (%d points)\n", args[0].c_str(),
               FactorLabel(*factor).c_str(), Sparkline(values).c_str(),
               all.points_size());
  Table t({"TIME", "SEQ", "SCORE", "BAND", "EXPORT", "TARIFF", "STRAIT",
           "MODEL", "REASON"});
  for (const auto& p : all.points()) {
    std::string time =
        absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", base::FromProtoTime(p.time()),
                         absl::UTCTimeZone());
    if (p.deleted()) {
      t.Add({time, absl::StrCat(p.graph_sequence()), "-", "deleted", "-", "-",
             "-", p.model_version(), ""});
      continue;
    }
    std::string reason = p.reason();
    if (p.rebuild()) {
      reason = absl::StrCat("[history starts here] ", reason);
    }
    t.Add({time, absl::StrCat(p.graph_sequence()), Fixed(p.composite()),
           BandLabel(p.band()), Fixed(Value(p, v1::FACTOR_EXPORT_CONTROLS)),
           Fixed(Value(p, v1::FACTOR_TARIFFS)),
           Fixed(Value(p, v1::FACTOR_CROSS_STRAIT)), p.model_version(),
           reason});
  }
  t.Print(o.client.out);
  return kExitOk;
}

}  // namespace georisk::cli
