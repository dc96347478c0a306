#include "services/georiskctl/commands.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "base/file_util.h"
#include "base/proto_time.h"
#include "georisk/v1/alerts.grpc.pb.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "georisk/v1/scorer.grpc.pb.h"
#include "services/common/grpc_probe.h"
#include "services/common/grpc_status.h"
#include "services/common/log.h"
#include "services/common/scenario_file.h"
#include "services/georiskctl/cli.h"
#include "services/georiskctl/graphstore_shards.h"

namespace georisk::cli {
namespace {

using Stub = v1::Scorer::Stub;

std::unique_ptr<Stub> ScorerStub(const CommandOptions& o,
                                 absl::string_view command, int* exit_code) {
  auto channel = Channel(o.client, Service::kScorer);
  if (!channel.ok()) {
    *exit_code = Usage(o.client, command, channel.status().message());
    return nullptr;
  }
  return v1::Scorer::NewStub(*channel);
}

std::string FactorCell(const v1::Score& s, v1::Factor f) {
  for (const auto& fs : s.factors()) {
    if (fs.factor() == f) return Fixed(100 * fs.propagated());
  }
  return "-";
}

// A contribution in a few words, naming the upstream entity if any.
std::string Describe(const v1::Contribution& c) {
  if (c.has_upstream() && !c.upstream().entity_name().empty()) {
    return absl::StrCat(c.description(), ": ", c.upstream().entity_name());
  }
  return c.description();
}

// The main reason of a score: within the factor that contributes most, the
// largest contribution (a direct signal) or the path it starts (upstream).
std::string MainReason(const CommandOptions& o, Stub* stub,
                       const v1::Score& score, v1::Factor factor) {
  if (factor == v1::FACTOR_UNSPECIFIED) {
    double best = 0;
    for (const auto& f : score.factors()) {
      if (f.propagated() > best) {
        best = f.propagated();
        factor = f.factor();
      }
    }
    if (best == 0) return "-";
  }
  v1::ExplainScoreRequest request;
  request.set_entity_id(score.entity_id());
  request.set_factor(factor);
  request.set_max_paths(1);
  v1::Explanation e;
  auto context = Context(o.client);
  if (!stub->ExplainScore(context.get(), request, &e).ok() ||
      e.contributions_size() == 0) {
    return "-";
  }
  const v1::Contribution& top = e.contributions(0);
  if (top.has_upstream() && e.paths_size() > 0) return e.paths(0).summary();
  return Describe(top);
}

void PrintAlert(std::FILE* out, const v1::Alert& a) {
  std::string reason = a.reasons_size() > 0 ? a.reasons(0) : "";
  // A FIRING record after the first one of an alert is an update.
  std::string state = v1::Alert::State_Name(a.state());
  if (a.state() == v1::Alert::FIRING &&
      base::FromProtoTime(a.update_time()) !=
          base::FromProtoTime(a.start_time())) {
    state = "UPDATED";
  }
  std::fprintf(out, "#%lld %s %-8s %s (%s) %s: %s -> %s, %s%s%s\n",
               static_cast<long long>(a.sequence()),
               absl::FormatTime("%Y-%m-%d %H:%M:%S",
                                base::FromProtoTime(a.update_time()),
                                absl::UTCTimeZone())
                   .c_str(),
               state.c_str(), a.entity_id().c_str(), a.entity_name().c_str(),
               a.rule_name().c_str(), Fixed(a.score_before()).c_str(),
               Fixed(a.score_after()).c_str(), FactorLabel(a.factor()).c_str(),
               reason.empty() ? "" : " - ", reason.c_str());
  std::fflush(out);
}

// `s` as a JSON string, quotes included.
}  // namespace

int ScoreCommand(const CommandOptions& o,
                 const std::vector<std::string>& args) {
  if (args.empty())
    return Usage(o.client, "score", "give at least one entity id");
  int code = kExitOk;
  auto stub = ScorerStub(o, "score", &code);
  if (!stub) return code;
  v1::BatchGetScoresRequest request;
  for (const auto& id : args) request.add_entity_ids(id);
  request.set_allow_missing(true);
  if (o.as_of.has_value())
    *request.mutable_as_of() = base::ToProtoTime(*o.as_of);
  v1::BatchGetScoresResponse response;
  auto context = Context(o.client);
  grpc::Status s = stub->BatchGetScores(context.get(), request, &response);
  if (!s.ok())
    return Fail(o.client, Service::kScorer, common::FromGrpcStatus(s));
  if (JsonOutput(o.client)) {
    PrintJson(o.client.out, response);
  } else {
    Table t({"ENTITY", "NAME", "COUNTRY", "SCORE", "BAND", "EXPORT", "TARIFF",
             "STRAIT", "SEQ"});
    for (const auto& sc : response.scores()) {
      t.Add({sc.entity_id(), sc.entity_name(), sc.country(),
             Fixed(sc.composite()), BandLabel(sc.band()),
             FactorCell(sc, v1::FACTOR_EXPORT_CONTROLS),
             FactorCell(sc, v1::FACTOR_TARIFFS),
             FactorCell(sc, v1::FACTOR_CROSS_STRAIT),
             absl::StrCat(sc.graph_sequence())});
    }
    t.Print(o.client.out);
    for (const auto& id : response.missing_ids()) {
      std::fprintf(o.client.err, "georiskctl: no entity %s\n", id.c_str());
    }
  }
  return response.missing_ids_size() > 0 ? kExitFailed : kExitOk;
}

int TopCommand(const CommandOptions& o, const std::vector<std::string>& args) {
  if (!args.empty()) return Usage(o.client, "top", "takes no arguments");
  auto factor = ParseFactor(o.factor);
  if (!factor.ok()) return Usage(o.client, "top", factor.status().message());
  auto kind = ParseKind(o.kind);
  if (!kind.ok()) return Usage(o.client, "top", kind.status().message());
  int code = kExitOk;
  auto stub = ScorerStub(o, "top", &code);
  if (!stub) return code;
  v1::ListTopRisksRequest request;
  request.set_factor(static_cast<v1::Factor>(*factor));
  request.set_entity_kind(static_cast<v1::Entity::Kind>(*kind));
  request.set_country(absl::AsciiStrToUpper(o.country));
  request.set_min_score(o.min_score);
  request.set_page_size(o.limit);
  v1::ListTopRisksResponse response;
  auto context = Context(o.client);
  grpc::Status s = stub->ListTopRisks(context.get(), request, &response);
  if (!s.ok())
    return Fail(o.client, Service::kScorer, common::FromGrpcStatus(s));
  if (JsonOutput(o.client)) {
    PrintJson(o.client.out, response);
    return kExitOk;
  }
  std::vector<std::string> header = {"#",    "ENTITY", "NAME",
                                     "CTRY", "SCORE",  "BAND"};
  if (*factor != v1::FACTOR_UNSPECIFIED) header[4] = "FACTOR";
  if (o.reasons) header.push_back("MAIN REASON");
  Table t(header);
  int rank = 0;
  for (const auto& sc : response.scores()) {
    std::vector<std::string> row = {
        absl::StrCat(++rank),
        sc.entity_id(),
        sc.entity_name(),
        sc.country(),
        *factor == v1::FACTOR_UNSPECIFIED
            ? Fixed(sc.composite())
            : FactorCell(sc, static_cast<v1::Factor>(*factor)),
        BandLabel(sc.band())};
    if (o.reasons) {
      row.push_back(
          MainReason(o, stub.get(), sc, static_cast<v1::Factor>(*factor)));
    }
    t.Add(std::move(row));
  }
  t.Print(o.client.out);
  std::fprintf(o.client.out, "(%lld of %lld entities; graph sequence %lld)\n",
               static_cast<long long>(response.scores_size()),
               static_cast<long long>(response.total_size()),
               static_cast<long long>(response.scores_size() > 0
                                          ? response.scores(0).graph_sequence()
                                          : 0));
  return kExitOk;
}

int ExplainCommand(const CommandOptions& o,
                   const std::vector<std::string>& args) {
  if (args.size() != 1) return Usage(o.client, "explain", "give one entity id");
  auto factor = ParseFactor(o.factor);
  if (!factor.ok())
    return Usage(o.client, "explain", factor.status().message());
  int code = kExitOk;
  auto stub = ScorerStub(o, "explain", &code);
  if (!stub) return code;
  v1::ExplainScoreRequest request;
  request.set_entity_id(args[0]);
  request.set_factor(static_cast<v1::Factor>(*factor));
  request.set_max_paths(5);
  if (o.as_of.has_value())
    *request.mutable_as_of() = base::ToProtoTime(*o.as_of);
  v1::Explanation e;
  auto context = Context(o.client);
  grpc::Status s = stub->ExplainScore(context.get(), request, &e);
  if (!s.ok())
    return Fail(o.client, Service::kScorer, common::FromGrpcStatus(s));
  if (JsonOutput(o.client)) {
    PrintJson(o.client.out, e);
    return kExitOk;
  }
  const v1::Score& sc = e.score();
  std::fprintf(o.client.out, "%s (%s), %s\n", sc.entity_name().c_str(),
               sc.entity_id().c_str(), sc.country().c_str());
  // Who wrote the entity's record: "SME BANK via csl-ssi, fetched ...".
  if (e.has_entity_provenance()) {
    std::fprintf(o.client.out, "record: %s\n",
                 e.entity_provenance().summary().c_str());
  }
  std::fprintf(o.client.out,
               "composite %s (%s); export controls %s, tariffs %s, "
               "cross-strait %s; graph sequence %lld, model %s\n\n",
               Fixed(sc.composite()).c_str(), BandLabel(sc.band()).c_str(),
               FactorCell(sc, v1::FACTOR_EXPORT_CONTROLS).c_str(),
               FactorCell(sc, v1::FACTOR_TARIFFS).c_str(),
               FactorCell(sc, v1::FACTOR_CROSS_STRAIT).c_str(),
               static_cast<long long>(sc.graph_sequence()),
               sc.model_version().c_str());
  if (e.contributions_size() == 0) {
    std::fprintf(o.client.out,
                 "No exposure: no signal applies to it or to anything "
                 "upstream of it.\n");
    return kExitOk;
  }
  std::fprintf(o.client.out,
               "What makes up each factor (shares of its log-odds):\n");
  Table t({"FACTOR", "SHARE", "FROM", "HOW"});
  for (const auto& c : e.contributions()) {
    // The upstream entity, or the signal with its provenance when it has
    // one: "Entity List via csl-el, fetched 2026-12-06 14:00 UTC".
    std::string from = c.upstream().entity_name();
    if (!c.has_upstream()) {
      const v1::DirectContribution& d = c.direct();
      from = !d.provenance().summary().empty() ? d.provenance().summary()
             : d.signal_title().empty()        ? d.signal_id()
                                               : d.signal_title();
    }
    t.Add({FactorLabel(c.factor()),
           absl::StrCat(Fixed(100 * c.fraction(), 0), "%"), from,
           c.description()});  // FROM names the upstream entity already.
  }
  t.Print(o.client.out);
  if (e.paths_size() > 0) std::fprintf(o.client.out, "\nPaths upstream:\n");
  for (const auto& p : e.paths()) {
    std::fprintf(o.client.out, "  %s (%s%% of it): %s\n",
                 FactorLabel(p.factor()).c_str(),
                 Fixed(100 * p.fraction(), 0).c_str(), p.summary().c_str());
    std::string indent = "    ";
    for (int i = 0; i < p.hops_size(); ++i) {
      const auto& hop = p.hops(i);
      std::string edge =
          i == 0 ? ""
                 : absl::StrFormat("  [%s, weight %.2f, score %.2f]",
                                   v1::Edge::Kind_Name(hop.edge_kind()),
                                   hop.weight(), hop.score());
      std::fprintf(o.client.out, "%s%s%s%s\n", indent.c_str(),
                   i == 0 ? "" : "└─ ", hop.entity_name().c_str(),
                   edge.c_str());
      // The edge's provenance, under its hop: "supplier edge (8542) via
      // georiskctl import of suppliers.csv, started ...".
      if (i > 0 && hop.has_edge_provenance()) {
        std::fprintf(o.client.out, "%s   %s\n", indent.c_str(),
                     hop.edge_provenance().summary().c_str());
      }
      if (i > 0) indent += "   ";
    }
    if (!p.signal_id().empty()) {
      std::fprintf(o.client.out, "%s└─ %s\n", indent.c_str(),
                   p.signal_id().c_str());
    }
  }
  std::fprintf(o.client.out,
               "\nShares are additive: -ln(1 - score) is the sum of the parts. "
               "\"supplier of\" is a supply relation, not an affiliation.\n");
  return kExitOk;
}

int ScenarioCommand(const CommandOptions& o,
                    const std::vector<std::string>& args) {
  if (args.size() != 1)
    return Usage(o.client, "scenario", "give one scenario file");
  absl::StatusOr<v1::Scenario> scenario = common::ReadScenarioFile(args[0]);
  if (!scenario.ok())
    return Usage(o.client, "scenario", scenario.status().message());
  int code = kExitOk;
  auto stub = ScorerStub(o, "scenario", &code);
  if (!stub) return code;
  v1::RunScenarioRequest request;
  *request.mutable_scenario() = *scenario;
  request.set_max_results(o.limit);
  request.set_include_reasons(true);
  request.set_min_delta(0.05);
  v1::RunScenarioResponse response;
  auto context = Context(o.client);
  grpc::Status s = stub->RunScenario(context.get(), request, &response);
  if (!s.ok())
    return Fail(o.client, Service::kScorer, common::FromGrpcStatus(s));
  if (JsonOutput(o.client)) {
    PrintJson(o.client.out, response);
    return kExitOk;
  }
  std::fprintf(o.client.out,
               "Scenario \"%s\": %lld entities move (graph sequence %lld, "
               "model %s). Live scores are unchanged.\n\n",
               response.name().c_str(),
               static_cast<long long>(response.affected_count()),
               static_cast<long long>(response.graph_sequence()),
               response.model_version().c_str());
  Table t({"ENTITY", "NAME", "CTRY", "BEFORE", "AFTER", "DELTA", "TOP REASON"});
  for (const auto& d : response.deltas()) {
    t.Add({d.entity_id(), d.after().entity_name(), d.after().country(),
           Fixed(d.before().composite()), Fixed(d.after().composite()),
           absl::StrFormat("%+.1f", d.delta()),
           d.top_reasons_size() > 0 ? Describe(d.top_reasons(0)) : ""});
  }
  t.Print(o.client.out);
  return kExitOk;
}

int AlertsCommand(const CommandOptions& o,
                  const std::vector<std::string>& args) {
  if (args.size() != 1 || (args[0] != "watch" && args[0] != "list")) {
    return Usage(o.client, "alerts", "use 'alerts watch' or 'alerts list'");
  }
  auto channel = Channel(o.client, Service::kScorer);
  if (!channel.ok())
    return Usage(o.client, "alerts", channel.status().message());
  auto stub = v1::Alerts::NewStub(*channel);
  if (args[0] == "list") {
    v1::ListAlertsRequest request;
    std::string state = absl::AsciiStrToLower(o.state);
    if (state == "firing") {
      request.mutable_filter()->set_state(v1::Alert::FIRING);
    } else if (state == "resolved") {
      request.mutable_filter()->set_state(v1::Alert::RESOLVED);
    } else if (!state.empty()) {
      return Usage(o.client, "alerts", "--state: firing or resolved");
    }
    request.set_page_size(o.limit);
    v1::ListAlertsResponse response;
    auto context = Context(o.client);
    grpc::Status s = stub->ListAlerts(context.get(), request, &response);
    if (!s.ok())
      return Fail(o.client, Service::kScorer, common::FromGrpcStatus(s));
    if (JsonOutput(o.client)) {
      PrintJson(o.client.out, response);
    } else {
      for (const auto& a : response.alerts()) PrintAlert(o.client.out, a);
    }
    return kExitOk;
  }

  // watch: from the flag, else after the saved sequence, else only new.
  const std::string state_file = o.state_file;
  int64_t from = o.from_sequence;
  if (from == 0 && !state_file.empty()) {
    std::ifstream in(state_file);
    int64_t saved = 0;
    if (in >> saved) from = saved + 1;
  }
  v1::WatchAlertsRequest request;
  request.set_from_sequence(from);
  auto context = Context(o.client, /*stream=*/true);
  auto reader = stub->WatchAlerts(context.get(), request);
  v1::WatchAlertsResponse response;
  const int count = o.count;
  int shown = 0;
  if (!JsonOutput(o.client)) {
    std::fprintf(o.client.err,
                 "watching alerts on %s from %s (Ctrl-C to stop)\n",
                 Address(o.client, Service::kScorer).c_str(),
                 from == 0 ? "now" : absl::StrCat("#", from).c_str());
  }
  while (reader->Read(&response)) {
    for (const auto& a : response.alerts()) {
      if (JsonOutput(o.client)) {
        PrintJson(o.client.out, a);
      } else {
        PrintAlert(o.client.out, a);
      }
      if (!state_file.empty()) {
        // Saved after it was shown: a restart shows nothing twice.
        (void)base::WriteFileAtomically(state_file,
                                        absl::StrCat(a.sequence(), "\n"));
      }
      if (count > 0 && ++shown >= count) {
        context->TryCancel();
        reader->Finish();
        return kExitOk;
      }
    }
  }
  return Fail(o.client, Service::kScorer,
              common::FromGrpcStatus(reader->Finish()));
}

int LookupCommand(const CommandOptions& o,
                  const std::vector<std::string>& args) {
  if (args.size() != 2) {
    return Usage(o.client, "lookup",
                 "give a scheme and a value, e.g. lookup lei "
                 "549300617UK8WPPT6W46");
  }
  if (o.limit < 1) return Usage(o.client, "lookup", "--limit must be >= 1");
  auto channel = Channel(o.client, Service::kGraphstore);
  if (!channel.ok()) {
    return Usage(o.client, "lookup", channel.status().message());
  }
  auto stub = v1::GraphStore::NewStub(*channel);
  v1::LookupByIdentifierRequest request;
  request.set_scheme(args[0]);
  request.set_value(args[1]);
  request.set_country(o.country);
  request.set_include_equivalent(o.equivalent);
  // Every page read, merged: the entities up to `limit`, the last page's
  // token and snapshot.
  v1::LookupByIdentifierResponse all;
  do {
    request.set_page_size(std::min(o.limit - all.entities_size(), 1000));
    v1::LookupByIdentifierResponse page;
    auto context = Context(o.client);
    grpc::Status s = stub->LookupByIdentifier(context.get(), request, &page);
    if (!s.ok()) {
      return Fail(o.client, Service::kGraphstore, common::FromGrpcStatus(s));
    }
    for (v1::Entity& e : *page.mutable_entities()) {
      *all.add_entities() = std::move(e);
    }
    all.set_scheme(page.scheme());
    all.set_value(page.value());
    all.set_sequence(page.sequence());
    all.set_next_page_token(page.next_page_token());
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty() && all.entities_size() < o.limit);

  if (JsonOutput(o.client)) {
    PrintJson(o.client.out, all);
  } else {
    Table t({"ENTITY", "NAME", "CTRY", "IDENTIFIERS"});
    for (const v1::Entity& e : all.entities()) {
      std::vector<std::string> ids;
      for (const auto& [scheme, value] : e.identifiers()) {
        ids.push_back(absl::StrCat(scheme, "=", value));
      }
      std::sort(ids.begin(), ids.end());
      t.Add({e.id(), e.name(), e.country(), absl::StrJoin(ids, " ")});
    }
    if (all.entities_size() > 0) t.Print(o.client.out);
    std::fprintf(o.client.out, "(%d %s with %s %s%s; graph sequence %lld)\n",
                 all.entities_size(),
                 all.entities_size() == 1 ? "entity" : "entities",
                 all.scheme().c_str(), all.value().c_str(),
                 all.next_page_token().empty() ? "" : ", more: raise --limit",
                 static_cast<long long>(all.sequence()));
  }
  if (all.entities_size() == 0) {
    std::fprintf(o.client.err, "georiskctl: no entity has %s %s\n",
                 all.scheme().c_str(), all.value().c_str());
    return kExitFailed;
  }
  return kExitOk;
}

int EntityCommand(const CommandOptions& o,
                  const std::vector<std::string>& args) {
  if (args.empty()) {
    return Usage(o.client, "entity", "give one or more entity ids");
  }
  auto channel = Channel(o.client, Service::kGraphstore);
  if (!channel.ok()) {
    return Usage(o.client, "entity", channel.status().message());
  }
  auto stub = v1::GraphStore::NewStub(*channel);
  Table t({"ENTITY", "KIND", "NAME", "CTRY", "SEQUENCE"});
  int code = kExitOk;
  for (const std::string& id : args) {
    v1::GetEntityRequest request;
    request.set_id(id);
    v1::Entity entity;
    auto context = Context(o.client);
    grpc::Status s = stub->GetEntity(context.get(), request, &entity);
    if (!s.ok()) {
      // A missing id does not hide the others; unreachable ends it.
      code = Fail(o.client, Service::kGraphstore, common::FromGrpcStatus(s));
      if (code == kExitUnavailable) return code;
      continue;
    }
    if (JsonOutput(o.client)) {
      PrintJson(o.client.out, entity);
      continue;
    }
    t.Add({entity.id(),
           absl::AsciiStrToLower(v1::Entity::Kind_Name(entity.kind())),
           entity.name(), entity.country(),
           absl::StrCat(entity.update_sequence())});
  }
  if (!JsonOutput(o.client)) t.Print(o.client.out);
  return code;
}

int StatusCommand(const CommandOptions& o,
                  const std::vector<std::string>& args) {
  if (!args.empty()) return Usage(o.client, "status", "takes no arguments");
  v1::GetStatsResponse stats;
  bool have_stats = false;
  int64_t scored_at = -1;
  std::string model = "-";
  int unhealthy = 0;
  v1::FeedStatus feed;
  bool have_feed = false;
  // A partitioned graphstore: every shard's row (graphstore_shards.h). A
  // shard that is down is a row, and makes the exit code kExitUnavailable.
  std::vector<ShardRow> shards =
      ProbeShards(o.client, GraphstoreShards(o.client), absl::Seconds(5));
  for (const ShardRow& shard : shards) unhealthy += !shard.Healthy();
  Table t({"SERVICE", "ADDRESS", "HEALTH", "DETAIL"});
  for (Service s : {Service::kGraphstore, Service::kIngest, Service::kScorer}) {
    // Not part of this deployment (the local launcher's scorer with shards).
    if (Address(o.client, s) == kNotDeployed) {
      t.Add({ServiceName(s), kNotDeployed, "-", "not deployed"});
      continue;
    }
    absl::StatusOr<common::HealthState> health =
        common::CheckHealth(Address(o.client, s), "", absl::Seconds(5));
    std::string shown = health.ok() ? *health : "DOWN";
    if (!health.ok() || *health != "SERVING") ++unhealthy;
    std::string detail;
    auto channel = Channel(o.client, s);
    if (health.ok() && channel.ok()) {
      if (s == Service::kGraphstore) {
        auto stub = v1::GraphStore::NewStub(*channel);
        auto context = Context(o.client);
        have_stats =
            stub->GetStats(context.get(), v1::GetStatsRequest(), &stats).ok();
        if (have_stats && !shards.empty()) {
          // The endpoint is one shard (a router answers reads for all): its
          // own counts are not the graph's.
          detail = absl::StrCat(ShardTotals(shards), "; this endpoint is ",
                                "graphstore-", stats.shard_index());
        } else if (have_stats) {
          detail =
              absl::StrFormat("%d entities, %d edges, %d signals, sequence %d",
                              stats.entity_count(), stats.edge_count(),
                              stats.signal_count(), stats.last_sequence());
          if (stats.shard_count() > 1) {
            absl::StrAppend(&detail, "; graphstore-", stats.shard_index(),
                            " of ", stats.shard_count(),
                            " shards alone: --graphstore_shards lists every "
                            "shard");
          }
        }
        if (have_stats) {
          // Serving reads, refusing writes (a full disk).
          if (!stats.writes_stopped_reason().empty()) {
            if (shown == "SERVING") ++unhealthy;
            shown = "DEGRADED";
            absl::StrAppend(&detail, "; ", stats.writes_stopped_reason());
          }
        }
      } else if (s == Service::kScorer) {
        auto stub = v1::Scorer::NewStub(*channel);
        v1::ModelConfig config;
        auto context = Context(o.client);
        if (stub->GetModel(context.get(), v1::GetModelRequest(), &config)
                .ok()) {
          model = config.version();
        }
        v1::ListTopRisksRequest top;
        top.set_page_size(1);
        v1::ListTopRisksResponse page;
        auto context2 = Context(o.client);
        if (stub->ListTopRisks(context2.get(), top, &page).ok() &&
            page.scores_size() > 0) {
          scored_at = page.scores(0).graph_sequence();
        }
        detail = absl::StrCat("model ", model);
        if (scored_at >= 0) absl::StrAppend(&detail, ", scored at ", scored_at);
        // With shards each has its own sequence: the lag is per shard's
        // feed, on the shard rows (SCORER FEED).
        if (scored_at >= 0 && have_stats && shards.empty()) {
          absl::StrAppend(
              &detail, ", lag ",
              std::max<int64_t>(0, stats.last_sequence() - scored_at));
        }
        // The graph it follows, and whether it had to rebuild from a
        // snapshot (graphstore's history replaced, rolled back, trimmed).
        auto context3 = Context(o.client);
        have_feed = stub->GetFeedStatus(context3.get(),
                                        v1::GetFeedStatusRequest(), &feed)
                        .ok();
        if (have_feed) {
          // Each shard's feed goes on that shard's row.
          AttachScorerFeeds(feed, &shards);
          if (!feed.graph_id().empty()) {
            absl::StrAppend(&detail, ", graph ", feed.graph_id());
          }
          if (have_stats && !stats.graph_id().empty() &&
              !feed.graph_id().empty() && stats.graph_id() != feed.graph_id()) {
            absl::StrAppend(&detail, " (graphstore holds ", stats.graph_id(),
                            ")");
          }
          absl::StrAppend(&detail, ", rebuilds ", feed.rebuilds_total());
          if (feed.has_last_rebuild()) {
            absl::StrAppend(&detail, " (last: ", feed.last_rebuild().reason(),
                            " at ",
                            absl::FormatTime(
                                "%Y-%m-%dT%H:%M:%SZ",
                                base::FromProtoTime(feed.last_rebuild().time()),
                                absl::UTCTimeZone()),
                            ")");
          }
        }
      }
    } else if (!health.ok()) {
      detail = "not reachable";
    }
    t.Add({ServiceName(s), Address(o.client, s), shown, detail});
  }
  if (JsonOutput(o.client)) {
    std::string rebuild = "null";
    if (feed.has_last_rebuild()) {
      rebuild =
          absl::StrFormat("{\"reason\": %s, \"time\": %s}",
                          JsonQuoted(feed.last_rebuild().reason()),
                          JsonQuoted(absl::FormatTime(
                              "%Y-%m-%dT%H:%M:%SZ",
                              base::FromProtoTime(feed.last_rebuild().time()),
                              absl::UTCTimeZone())));
    }
    std::fprintf(o.client.out,
                 "{\"healthy\": %s, \"graph_sequence\": %lld, "
                 "\"scored_sequence\": %lld, \"model_version\": \"%s\", "
                 "\"graph_id\": %s, \"scorer_graph_id\": %s, "
                 "\"scorer_rebuilds\": %lld, \"scorer_last_rebuild\": %s, "
                 "\"graph_writes_stopped\": %s, \"graphstore_shards\": %s}\n",
                 unhealthy == 0 ? "true" : "false",
                 static_cast<long long>(stats.last_sequence()),
                 static_cast<long long>(scored_at), model.c_str(),
                 JsonQuoted(stats.graph_id()).c_str(),
                 JsonQuoted(feed.graph_id()).c_str(),
                 static_cast<long long>(feed.rebuilds_total()), rebuild.c_str(),
                 JsonQuoted(stats.writes_stopped_reason()).c_str(),
                 ShardRowsJson(shards).c_str());
  } else {
    t.Print(o.client.out);
    if (!shards.empty()) {
      std::fputc('\n', o.client.out);
      PrintShardTable(shards, o.client.out);
    }
  }
  return unhealthy == 0 ? kExitOk : kExitUnavailable;
}

int HealthCommand(const CommandOptions& o,
                  const std::vector<std::string>& args) {
  if (!args.empty()) return Usage(o.client, "health", "takes no arguments");
  if (o.target.empty())
    return Usage(o.client, "health", "--target is required");
  if (o.wait > absl::ZeroDuration()) {
    absl::Status s = common::WaitForServing(o.target, o.service, o.wait);
    if (!s.ok()) {
      std::fprintf(o.client.err, "georiskctl: %s\n",
                   std::string(s.message()).c_str());
      return kExitUnavailable;
    }
    std::fprintf(o.client.out, "%s SERVING\n", o.target.c_str());
    return kExitOk;
  }
  absl::StatusOr<common::HealthState> state =
      common::CheckHealth(o.target, o.service, absl::Seconds(5));
  if (!state.ok()) {
    std::fprintf(o.client.err, "georiskctl: %s: %s\n", o.target.c_str(),
                 state.status().ToString().c_str());
    return kExitUnavailable;
  }
  std::fprintf(o.client.out, "%s %s\n", o.target.c_str(), state->c_str());
  return *state == "SERVING" ? kExitOk : kExitFailed;
}

std::string CommandHelp(const std::string& command) {
  if (command == "import") {
    return "georiskctl import FILE... [--format F] [--snapshot_source "
           "S[,S...]] [--rejections FILE] [--dry_run]\n  Streams files to "
           "ingest with a progress bar and prints the summary; exit 1 "
           "if\n  any record was rejected, 3 if ingest is down. See "
           "docs/formats.md.";
  }
  if (command == "score") {
    return "georiskctl score ID... [--as_of T]\n  The scores of entities: "
           "composite, band, each factor (0..100), graph sequence;\n  with "
           "--as_of (RFC 3339), as of that time on today's graph.\n  Flags: "
           "--output json";
  }
  if (command == "top") {
    return "georiskctl top [--factor F] [--kind K] [--country C] [--limit N] "
           "[--min_score S] [--reasons=false]\n  Entities ranked by risk, "
           "highest first, with their main reason.\n  F: export_controls, "
           "tariffs, cross_strait, composite (default); K: company, "
           "facility.";
  }
  if (command == "explain") {
    return "georiskctl explain ID [--factor F] [--as_of T]\n  Why an entity "
           "scores what it scores: the additive share of every signal and\n  "
           "upstream edge, and the paths upstream, as a tree; with --as_of,\n"
           "  the score as of that time.";
  }
  if (command == "scenario") {
    return "georiskctl scenario FILE [--limit N]\n  A what-if: FILE is a "
           "georisk.v1.Scenario in JSON or YAML, e.g.\n    name: tension "
           "up\n    overrides:\n      - upsertSignal: {id: "
           "signal/cross-strait-tension, source: what-if,\n          tension: "
           "{theatre: cross_strait, level: 0.9}}\n  Prints the entities that "
           "move most; live scores are untouched.";
  }
  if (command == "alerts") {
    return "georiskctl alerts watch [--from_sequence N] [--state_file F] "
           "[--count N]\n  Prints alerts as they come; with --state_file, "
           "resumes after the last one shown.\ngeoriskctl alerts list "
           "[--state firing|resolved] [--limit N]";
  }
  if (command == "lookup") {
    return "georiskctl lookup SCHEME VALUE [--country C] [--equivalent] "
           "[--limit N]\n  The entities that carry an identifier, from "
           "graphstore's index: SCHEME is\n  lei, isin, imo, imo_company, "
           "wikidata, opensanctions, csl_entity_number,\n  csl_id, "
           "registration, tax_number, inn, ogrn, duns, swift_bic, perm_id, "
           "ticker;\n  VALUE as written anywhere (normalised as "
           "docs/api.md says). --country: the\n  jurisdiction of a "
           "registration or tax number without \"CC:\"; --equivalent:\n  "
           "a CSL entity number also finds OpenSanctions' ofac-N, and back. "
           "Exit 1 if\n  none. Flags: --output json";
  }
  if (command == "entity") {
    return "georiskctl entity ID...\n  Entities as graphstore holds them "
           "(GetEntity): kind, name, country and the\n  sequence of their "
           "last change. Through a router (graphstore --route) any\n  "
           "shard's. Exit 1 if any id is missing. Flags: --output json";
  }
  if (command == "status") {
    return "georiskctl status [--graphstore_shards T0,T1,...]\n  Health of "
           "graphstore, ingest and scorer; graph size and sequence; the\n  "
           "scorer's model and lag. With shards (--graphstore_shards, else\n  "
           "GEORISK_GRAPHSTORE_SHARDS): a row per shard, its partitions, "
           "counts\n  and sequence, UNAVAILABLE when it does not answer. A "
           "service at address\n  \"none\" is not deployed and not asked. "
           "Exit 3 unless everything else is\n  SERVING. Flags: --output json";
  }
  return "";
}

}  // namespace georisk::cli
