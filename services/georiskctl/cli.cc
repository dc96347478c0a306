#include "services/georiskctl/cli.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "georisk/v1/graph.pb.h"
#include "georisk/v1/score.pb.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "services/common/channel.h"
#include "services/common/grpc_status.h"
#include "services/common/score_names.h"

namespace georisk::cli {
namespace {

int DefaultPort(Service s) {
  switch (s) {
    case Service::kGraphstore:
      return 50051;
    case Service::kIngest:
      return 50052;
    case Service::kScorer:
      return 50053;
  }
  return 0;
}

std::string FromEndpointsFile(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view l = line;
    if (absl::ConsumePrefix(&l, key) && absl::ConsumePrefix(&l, "=")) {
      return std::string(absl::StripAsciiWhitespace(l));
    }
  }
  return "";
}

// The value of `given`, else of the environment variable `key`, else of
// `key` in the endpoints file; "" when none has one.
std::string Resolve(const ClientOptions& options, const std::string& given,
                    const std::string& key) {
  if (!given.empty()) return given;
  if (const char* env = std::getenv(key.c_str()); env != nullptr && *env) {
    return env;
  }
  return FromEndpointsFile(options.endpoints_file, key);
}

}  // namespace

const char* ServiceName(Service s) {
  switch (s) {
    case Service::kGraphstore:
      return "graphstore";
    case Service::kIngest:
      return "ingest";
    case Service::kScorer:
      return "scorer";
  }
  return "?";
}

std::string Address(const ClientOptions& options, Service s) {
  const std::string* given = nullptr;
  switch (s) {
    case Service::kGraphstore:
      given = &options.graphstore;
      break;
    case Service::kIngest:
      given = &options.ingest;
      break;
    case Service::kScorer:
      given = &options.scorer;
      break;
  }
  std::string resolved =
      Resolve(options, given != nullptr ? *given : "",
              absl::AsciiStrToUpper(absl::StrCat("GEORISK_", ServiceName(s))));
  if (!resolved.empty()) return resolved;
  return absl::StrCat("127.0.0.1:", DefaultPort(s));
}

std::vector<std::string> GraphstoreShards(const ClientOptions& options) {
  std::vector<std::string> targets;
  for (absl::string_view target :
       absl::StrSplit(Resolve(options, options.graphstore_shards,
                              "GEORISK_GRAPHSTORE_SHARDS"),
                      ',', absl::SkipWhitespace())) {
    targets.emplace_back(absl::StripAsciiWhitespace(target));
  }
  return targets;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> Channel(
    const ClientOptions& options, Service s) {
  return ChannelTo(options, Address(options, s));
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> ChannelTo(
    const ClientOptions& options, const std::string& target) {
  common::ChannelOptions o;
  o.target = target;
  o.tls_ca_file = options.tls_ca;
  o.tls_client_cert_file = options.tls_client_cert;
  o.tls_client_key_file = options.tls_client_key;
  o.token_file = options.token_file;
  return common::MakeChannel(o);
}

std::unique_ptr<grpc::ClientContext> Context(const ClientOptions& options,
                                             bool stream) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!stream) {
    context->set_deadline(absl::ToChronoTime(absl::Now() + options.timeout));
  }
  return context;
}

bool JsonOutput(const ClientOptions& options) {
  return options.output == "json";
}

std::string JsonQuoted(const std::string& s) {
  google::protobuf::Value value;
  value.set_string_value(s);
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(value, &json);
  return json;
}

void PrintJson(std::FILE* out, const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  std::fputs(json.c_str(), out);
  if (json.empty() || json.back() != '\n') std::fputc('\n', out);
}

int Fail(const ClientOptions& options, Service s, const absl::Status& status) {
  std::FILE* const err = options.err;
  std::string where = absl::StrCat(ServiceName(s), " at ", Address(options, s));
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
      if (absl::StrContains(status.message(), "not computed yet") ||
          absl::StrContains(status.message(), "resolution index")) {
        std::fprintf(err, "georiskctl: %s: %s\n", where.c_str(),
                     std::string(status.message()).c_str());
        return kExitUnavailable;
      }
      std::fprintf(err,
                   "georiskctl: %s is not reachable (%s).\n"
                   "Is it running? Try: deploy/local/georisk-local status\n",
                   where.c_str(), std::string(status.message()).c_str());
      return kExitUnavailable;
    case absl::StatusCode::kDeadlineExceeded:
      std::fprintf(err, "georiskctl: %s did not answer within %s (--timeout)\n",
                   where.c_str(),
                   absl::FormatDuration(options.timeout).c_str());
      return kExitUnavailable;
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      std::fprintf(err, "georiskctl: %s refused: %s (see --token_file)\n",
                   where.c_str(), std::string(status.message()).c_str());
      return kExitFailed;
    default:
      std::fprintf(err, "georiskctl: %s: %s: %s\n", where.c_str(),
                   absl::StatusCodeToString(status.code()).c_str(),
                   std::string(status.message()).c_str());
      return kExitFailed;
  }
}

int Usage(const ClientOptions& options, absl::string_view command,
          absl::string_view message) {
  std::fprintf(options.err, "georiskctl %s: %s\nRun 'georiskctl %s --help'.\n",
               std::string(command).c_str(), std::string(message).c_str(),
               std::string(command).c_str());
  return kExitUsage;
}

Table::Table(std::vector<std::string> header) : header_(std::move(header)) {}

void Table::Add(std::vector<std::string> row) {
  row.resize(header_.size());
  rows_.push_back(std::move(row));
}

void Table::Print(std::FILE* out) const {
  std::vector<size_t> width(header_.size());
  std::vector<bool> numeric(header_.size(), true);
  auto utf8_width = [](const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  };
  for (size_t c = 0; c < header_.size(); ++c) {
    width[c] = utf8_width(header_[c]);
    for (const auto& row : rows_) {
      width[c] = std::max(width[c], utf8_width(row[c]));
      double unused;
      if (!row[c].empty() && row[c] != "-" &&
          !absl::SimpleAtod(absl::StripSuffix(row[c], "%"), &unused)) {
        numeric[c] = false;
      }
    }
  }
  auto print_row = [&](const std::vector<std::string>& row, bool header) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      size_t pad = width[c] - utf8_width(row[c]);
      bool right = numeric[c] && !header && c + 1 < row.size();
      if (right) line.append(pad, ' ');
      line += row[c];
      if (!right && c + 1 < row.size()) line.append(pad, ' ');
      if (c + 1 < row.size()) line += "  ";
    }
    line += '\n';
    std::fputs(line.c_str(), out);
  };
  print_row(header_, true);
  for (const auto& row : rows_) print_row(row, false);
}

std::string Fixed(double value, int decimals) {
  if (value < 0) return "-";
  return absl::StrFormat("%.*f", decimals, value);
}

absl::StatusOr<int> ParseFactor(absl::string_view text) {
  std::string t = absl::AsciiStrToLower(text);
  if (t == "export_controls" || t == "export")
    return v1::FACTOR_EXPORT_CONTROLS;
  if (t == "tariffs" || t == "tariff") return v1::FACTOR_TARIFFS;
  if (t == "cross_strait" || t == "strait") return v1::FACTOR_CROSS_STRAIT;
  if (t == "composite" || t.empty()) return v1::FACTOR_UNSPECIFIED;
  return absl::InvalidArgumentError(absl::StrCat(
      "--factor: \"", text,
      "\" is not one of export_controls, tariffs, cross_strait, composite"));
}

std::string FactorLabel(int factor) {
  return std::string(common::FactorLabel(static_cast<v1::Factor>(factor)));
}

std::string BandLabel(int band) {
  const absl::string_view name = common::BandName(static_cast<v1::Band>(band));
  return name.empty() ? "-" : std::string(name);
}

absl::StatusOr<int> ParseKind(absl::string_view text) {
  std::string t = absl::AsciiStrToLower(text);
  if (t == "company") return v1::Entity::COMPANY;
  if (t == "facility") return v1::Entity::FACILITY;
  if (t.empty()) return v1::Entity::KIND_UNSPECIFIED;
  return absl::InvalidArgumentError(
      absl::StrCat("--kind: \"", text, "\" is not company or facility"));
}

}  // namespace georisk::cli
