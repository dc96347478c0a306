#include "services/georiskctl/resolution_commands.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/proto_time.h"
#include "georisk/v1/resolution.grpc.pb.h"
#include "services/common/grpc_status.h"
#include "services/georiskctl/exit_codes.h"

namespace georisk::cli {
namespace {

using Stub = v1::Resolution::Stub;

std::unique_ptr<Stub> ResolutionStub(const ResolutionOptions& o,
                                     absl::string_view command,
                                     int* exit_code) {
  auto channel = Channel(o.client, Service::kGraphstore);
  if (!channel.ok()) {
    *exit_code = Usage(o.client, command, channel.status().message());
    return nullptr;
  }
  return v1::Resolution::NewStub(*channel);
}

int FailCall(const ResolutionOptions& o, const grpc::Status& s) {
  return Fail(o.client, Service::kGraphstore, common::FromGrpcStatus(s));
}

// "positive", "negative", "unsure", "-" for none.
std::string JudgementLabel(v1::Link::Judgement j) {
  if (j == v1::Link::JUDGEMENT_UNSPECIFIED) return "-";
  return absl::AsciiStrToLower(v1::Link::Judgement_Name(j));
}

std::string MethodLabel(v1::Link::Method m) {
  if (m == v1::Link::METHOD_UNSPECIFIED) return "-";
  return absl::AsciiStrToLower(v1::Link::Method_Name(m));
}

std::string Score(double score) { return absl::StrFormat("%.2f", score); }

absl::StatusOr<v1::Link::Judgement> ParseJudgement(absl::string_view text) {
  const std::string t = absl::AsciiStrToLower(text);
  if (t.empty()) return v1::Link::JUDGEMENT_UNSPECIFIED;
  if (t == "positive") return v1::Link::POSITIVE;
  if (t == "negative") return v1::Link::NEGATIVE;
  if (t == "unsure") return v1::Link::UNSURE;
  return absl::InvalidArgumentError(absl::StrCat(
      "--judgement: \"", text, "\" is not positive, negative or unsure"));
}

// Prints each link's evidence under the table, numbered as its row.
void PrintEvidence(std::FILE* out, int row,
                   const google::protobuf::RepeatedPtrField<std::string>& ev) {
  for (const std::string& line : ev) {
    std::fprintf(out, "  #%d %s\n", row, line.c_str());
  }
}

int ReviewList(const ResolutionOptions& o,
               const std::vector<std::string>& args) {
  if (args.size() != 1) {
    return Usage(o.client, "review list", "takes no further arguments");
  }
  auto kind = ParseKind(o.kind);
  if (!kind.ok()) return Usage(o.client, "review", kind.status().message());
  if (o.limit < 1) return Usage(o.client, "review", "--limit: must be >= 1");
  int code = kExitOk;
  auto stub = ResolutionStub(o, "review", &code);
  if (!stub) return code;
  v1::ListReviewQueueRequest request;
  request.set_source(o.source);
  request.set_min_score(o.min_score);
  request.set_max_score(o.max_score);
  request.set_kind(static_cast<v1::Entity::Kind>(*kind));
  request.set_page_size(o.limit);
  request.set_page_token(o.page_token);
  v1::ListReviewQueueResponse response;
  auto context = Context(o.client);
  grpc::Status s = stub->ListReviewQueue(context.get(), request, &response);
  if (!s.ok()) return FailCall(o, s);
  if (JsonOutput(o.client)) {
    PrintJson(o.client.out, response);
    return kExitOk;
  }
  Table t({"#", "SCORE", "ENTITY A", "ENTITY B", "METHOD", "SOURCE"});
  int row = 0;
  for (const v1::Link& l : response.links()) {
    t.Add({absl::StrCat(++row), Score(l.score()), l.entity_a(), l.entity_b(),
           MethodLabel(l.method()), l.source()});
  }
  t.Print(o.client.out);
  row = 0;
  for (const v1::Link& l : response.links())
    PrintEvidence(o.client.out, ++row, l.evidence());
  std::fprintf(o.client.out, "(%d of %lld waiting for review)\n",
               response.links_size(),
               static_cast<long long>(response.total_size()));
  if (!response.next_page_token().empty()) {
    std::fprintf(o.client.out, "next page: --page_token=%s\n",
                 response.next_page_token().c_str());
  }
  return kExitOk;
}

int ReviewDecide(const ResolutionOptions& o,
                 const std::vector<std::string>& args, bool accept) {
  const std::string command = accept ? "review accept" : "review reject";
  if (args.size() != 3) {
    return Usage(o.client, command, "give two entity ids");
  }
  if (!accept && absl::StripAsciiWhitespace(o.reason).empty()) {
    return Usage(o.client, command, "--reason: required to reject");
  }
  int code = kExitOk;
  auto stub = ResolutionStub(o, "review", &code);
  if (!stub) return code;
  v1::ReviewLinkRequest request;
  request.mutable_link()->set_entity_a(args[1]);
  request.mutable_link()->set_entity_b(args[2]);
  request.set_decision(accept ? v1::ReviewLinkRequest::ACCEPT
                              : v1::ReviewLinkRequest::REJECT);
  request.set_reason(o.reason);
  request.set_reviewer(o.reviewer);
  request.set_allow_manual(o.manual);
  v1::ReviewLinkResponse response;
  auto context = Context(o.client);
  grpc::Status s = stub->ReviewLink(context.get(), request, &response);
  if (!s.ok()) return FailCall(o, s);
  if (JsonOutput(o.client)) {
    PrintJson(o.client.out, response);
    return kExitOk;
  }
  const v1::Link& l = response.link();
  if (response.already_decided()) {
    // Nothing written: the earlier decision, with its time and reason.
    std::fprintf(
        o.client.out,
        "already %s: %s = %s is %s (%s, %s at %s%s), graph sequence %lld; "
        "nothing written\n",
        accept ? "linked" : "kept apart", l.entity_a().c_str(),
        l.entity_b().c_str(), JudgementLabel(l.judgement()).c_str(),
        MethodLabel(l.method()).c_str(), l.decided_by().c_str(),
        absl::FormatTime("%Y-%m-%d %H:%M", base::FromProtoTime(l.decided_at()),
                         absl::UTCTimeZone())
            .c_str(),
        l.reason().empty() ? "" : absl::StrCat(": ", l.reason()).c_str(),
        static_cast<long long>(response.sequence()));
    return kExitOk;
  }
  std::fprintf(o.client.out,
               "%s: %s = %s is %s (%s, %s), graph sequence %lld\n",
               accept ? "accepted" : "rejected", l.entity_a().c_str(),
               l.entity_b().c_str(), JudgementLabel(l.judgement()).c_str(),
               MethodLabel(l.method()).c_str(), l.decided_by().c_str(),
               static_cast<long long>(response.sequence()));
  return kExitOk;
}

}  // namespace

int MatchCommand(const ResolutionOptions& o,
                 const std::vector<std::string>& args) {
  if (args.empty() && o.identifiers.empty()) {
    return Usage(o.client, "match",
                 "give a name (and aliases) or --identifier");
  }
  auto kind = ParseKind(o.kind);
  if (!kind.ok()) return Usage(o.client, "match", kind.status().message());
  if (o.limit < 1 || o.limit > 50) {
    return Usage(o.client, "match", "--limit: must be in [1, 50]");
  }
  v1::MatchEntitiesRequest request;
  v1::MatchQuery* q = request.mutable_query();
  q->set_kind(static_cast<v1::Entity::Kind>(*kind));
  if (!args.empty()) q->set_name(args[0]);
  for (size_t i = 1; i < args.size(); ++i) q->add_aliases(args[i]);
  q->set_country(absl::AsciiStrToUpper(o.country));
  q->set_entity_id(o.entity);
  for (const std::string& id : o.identifiers) {
    const size_t sep = id.find_first_of(":=");
    if (sep == std::string::npos || sep == 0 || sep + 1 == id.size()) {
      return Usage(o.client, "match",
                   absl::StrCat("--identifier: \"", id,
                                "\" is not scheme:value (lei:5493...)"));
    }
    (*q->mutable_identifiers())[absl::AsciiStrToLower(id.substr(0, sep))] =
        id.substr(sep + 1);
  }
  request.set_limit(o.limit);
  int code = kExitOk;
  auto stub = ResolutionStub(o, "match", &code);
  if (!stub) return code;
  v1::MatchEntitiesResponse response;
  auto context = Context(o.client);
  grpc::Status s = stub->MatchEntities(context.get(), request, &response);
  if (!s.ok()) return FailCall(o, s);
  if (JsonOutput(o.client)) {
    PrintJson(o.client.out, response);
    return kExitOk;
  }
  Table t(
      {"#", "ENTITY", "NAME", "CTRY", "SCORE", "DECISION", "METHOD", "STORED"});
  int row = 0;
  for (const v1::MatchCandidate& c : response.candidates()) {
    t.Add(
        {absl::StrCat(++row), c.entity_id(), c.name(), c.country(),
         Score(c.score()),
         c.decision() == v1::MATCH_DECISION_AUTO_LINK ? "auto link" : "review",
         MethodLabel(c.method()), JudgementLabel(c.existing_judgement())});
  }
  t.Print(o.client.out);
  row = 0;
  for (const v1::MatchCandidate& c : response.candidates()) {
    PrintEvidence(o.client.out, ++row, c.evidence());
  }
  std::fprintf(o.client.out, "(%d candidates; index at graph sequence %lld)\n",
               response.candidates_size(),
               static_cast<long long>(response.sequence()));
  return kExitOk;
}

int ReviewCommand(const ResolutionOptions& o,
                  const std::vector<std::string>& args) {
  if (args.empty()) {
    return Usage(o.client, "review", "give list, accept or reject");
  }
  if (args[0] == "list") return ReviewList(o, args);
  if (args[0] == "accept") return ReviewDecide(o, args, /*accept=*/true);
  if (args[0] == "reject") return ReviewDecide(o, args, /*accept=*/false);
  return Usage(o.client, "review",
               absl::StrCat("unknown subcommand \"", args[0],
                            "\": give list, accept or reject"));
}

int LinksCommand(const ResolutionOptions& o,
                 const std::vector<std::string>& args) {
  if (args.size() != 1) return Usage(o.client, "links", "give one entity id");
  auto judgement = ParseJudgement(o.judgement);
  if (!judgement.ok()) {
    return Usage(o.client, "links", judgement.status().message());
  }
  if (o.limit < 1) return Usage(o.client, "links", "--limit: must be >= 1");
  int code = kExitOk;
  auto stub = ResolutionStub(o, "links", &code);
  if (!stub) return code;
  v1::ListLinksRequest request;
  request.set_entity_id(args[0]);
  request.set_judgement(*judgement);
  request.set_page_size(o.limit);
  request.set_page_token(o.page_token);
  v1::ListLinksResponse response;
  auto context = Context(o.client);
  grpc::Status s = stub->ListLinks(context.get(), request, &response);
  if (!s.ok()) return FailCall(o, s);
  if (JsonOutput(o.client)) {
    PrintJson(o.client.out, response);
    return kExitOk;
  }
  Table t({"#", "LINKED TO", "JUDGEMENT", "METHOD", "SCORE", "DECIDED BY",
           "DECIDED AT", "REASON"});
  int row = 0;
  for (const v1::Link& l : response.links()) {
    const std::string& other =
        l.entity_a() == args[0] ? l.entity_b() : l.entity_a();
    t.Add(
        {absl::StrCat(++row), other, JudgementLabel(l.judgement()),
         MethodLabel(l.method()), Score(l.score()), l.decided_by(),
         absl::FormatTime("%Y-%m-%d %H:%M", base::FromProtoTime(l.decided_at()),
                          absl::UTCTimeZone()),
         l.reason().empty() ? "-" : l.reason()});
  }
  t.Print(o.client.out);
  row = 0;
  for (const v1::Link& l : response.links())
    PrintEvidence(o.client.out, ++row, l.evidence());
  std::fprintf(o.client.out, "(%d links of %s)\n", response.links_size(),
               args[0].c_str());
  if (!response.next_page_token().empty()) {
    std::fprintf(o.client.out, "next page: --page_token=%s\n",
                 response.next_page_token().c_str());
  }
  return kExitOk;
}

std::string ResolutionCommandHelp(const std::string& command) {
  if (command == "match") {
    return "georiskctl match NAME [ALIAS...] [--country C] [--kind K] "
           "[--identifier scheme:value,...] [--entity ID] [--limit N]\n"
           "  The graph's entities that may be the party NAME names, best "
           "first: score,\n  decision (auto link or review), method, the "
           "judgement already stored for\n  the pair (with --entity) and the "
           "evidence. Nothing is linked.\n  Flags: --output json";
  }
  if (command == "review") {
    return "georiskctl review list [--source S] [--kind K] "
           "[--min_match_score X] [--max_match_score Y] [--limit N] "
           "[--page_token T]\n"
           "georiskctl review accept ENTITY_A ENTITY_B [--reason R] "
           "[--manual]\n"
           "georiskctl review reject ENTITY_A ENTITY_B --reason R [--manual]\n"
           "  The review queue (unsure links, best first), and a person's "
           "decision on a\n  pair: accept links them, reject keeps them apart "
           "across re-imports. Needs\n  a writer token; the token's name is "
           "recorded as the reviewer (without\n  authentication, "
           "--reviewer). --manual: a pair with no candidate link.";
  }
  if (command == "links") {
    return "georiskctl links ENTITY [--judgement positive|negative|unsure] "
           "[--limit N] [--page_token T]\n  An entity's links: to whom, the "
           "judgement, how it was found, who decided\n  and why.";
  }
  return "";
}

}  // namespace georisk::cli
