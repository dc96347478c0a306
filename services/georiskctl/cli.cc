#include "services/georiskctl/cli.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "georisk/v1/graph.pb.h"
#include "georisk/v1/score.pb.h"
#include "google/protobuf/util/json_util.h"
#include "services/common/channel.h"
#include "services/common/grpc_status.h"
#include "services/common/score_names.h"

ABSL_FLAG(std::string, graphstore, "", "graphstore address (host:port).");
ABSL_FLAG(std::string, ingest, "", "ingest address (host:port).");
ABSL_FLAG(std::string, scorer, "", "scorer address (host:port).");
ABSL_FLAG(std::string, endpoints_file, ".georisk/run/endpoints.env",
          "The local launcher's list of addresses, used when neither a flag "
          "nor GEORISK_<SERVICE> gives one.");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA bundle: talk TLS to the services.");
ABSL_FLAG(std::string, tls_client_cert, "",
          "PEM client certificate (mutual TLS).");
ABSL_FLAG(std::string, tls_client_key, "", "PEM key of --tls_client_cert.");
ABSL_FLAG(std::string, token_file, "",
          "File with a bearer token (reader for scores and alerts, writer for "
          "import).");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(30), "Per-call deadline.");
ABSL_FLAG(std::string, output, "table", "table or json.");

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

std::string FromEndpointsFile(const std::string& key) {
  std::ifstream in(absl::GetFlag(FLAGS_endpoints_file));
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view l = line;
    if (absl::ConsumePrefix(&l, key) && absl::ConsumePrefix(&l, "=")) {
      return std::string(absl::StripAsciiWhitespace(l));
    }
  }
  return "";
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

std::string Address(Service s) {
  std::string flag;
  switch (s) {
    case Service::kGraphstore:
      flag = absl::GetFlag(FLAGS_graphstore);
      break;
    case Service::kIngest:
      flag = absl::GetFlag(FLAGS_ingest);
      break;
    case Service::kScorer:
      flag = absl::GetFlag(FLAGS_scorer);
      break;
  }
  if (!flag.empty()) return flag;
  std::string key = absl::AsciiStrToUpper(
      absl::StrCat("GEORISK_", ServiceName(s)));
  if (const char* env = std::getenv(key.c_str()); env != nullptr && *env) {
    return env;
  }
  if (std::string file = FromEndpointsFile(key); !file.empty()) return file;
  return absl::StrCat("127.0.0.1:", DefaultPort(s));
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> Channel(Service s) {
  common::ChannelOptions o;
  o.target = Address(s);
  o.tls_ca_file = absl::GetFlag(FLAGS_tls_ca);
  o.tls_client_cert_file = absl::GetFlag(FLAGS_tls_client_cert);
  o.tls_client_key_file = absl::GetFlag(FLAGS_tls_client_key);
  o.token_file = absl::GetFlag(FLAGS_token_file);
  return common::MakeChannel(o);
}

std::unique_ptr<grpc::ClientContext> Context(bool stream) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!stream) {
    context->set_deadline(
        absl::ToChronoTime(absl::Now() + absl::GetFlag(FLAGS_timeout)));
  }
  return context;
}

bool JsonOutput() { return absl::GetFlag(FLAGS_output) == "json"; }

void PrintJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  std::fputs(json.c_str(), stdout);
  if (json.empty() || json.back() != '\n') std::fputc('\n', stdout);
}

int Fail(Service s, const absl::Status& status) {
  std::string where = absl::StrCat(ServiceName(s), " at ", Address(s));
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
      if (absl::StrContains(status.message(), "not computed yet")) {
        std::fprintf(stderr, "georiskctl: %s: %s\n", where.c_str(),
                     std::string(status.message()).c_str());
        return kExitUnavailable;
      }
      std::fprintf(stderr,
                   "georiskctl: %s is not reachable (%s).\n"
                   "Is it running? Try: deploy/local/georisk-local status\n",
                   where.c_str(), std::string(status.message()).c_str());
      return kExitUnavailable;
    case absl::StatusCode::kDeadlineExceeded:
      std::fprintf(stderr,
                   "georiskctl: %s did not answer within %s (--timeout)\n",
                   where.c_str(),
                   absl::FormatDuration(absl::GetFlag(FLAGS_timeout)).c_str());
      return kExitUnavailable;
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      std::fprintf(stderr, "georiskctl: %s refused: %s (see --token_file)\n",
                   where.c_str(), std::string(status.message()).c_str());
      return kExitFailed;
    default:
      std::fprintf(stderr, "georiskctl: %s: %s: %s\n", where.c_str(),
                   absl::StatusCodeToString(status.code()).c_str(),
                   std::string(status.message()).c_str());
      return kExitFailed;
  }
}

int Usage(absl::string_view command, absl::string_view message) {
  std::fprintf(stderr, "georiskctl %s: %s\nRun 'georiskctl %s --help'.\n",
               std::string(command).c_str(), std::string(message).c_str(),
               std::string(command).c_str());
  return kExitUsage;
}

Table::Table(std::vector<std::string> header) : header_(std::move(header)) {}

void Table::Add(std::vector<std::string> row) {
  row.resize(header_.size());
  rows_.push_back(std::move(row));
}

void Table::Print() const {
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
    std::puts(line.c_str());
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
  if (t == "export_controls" || t == "export") return v1::FACTOR_EXPORT_CONTROLS;
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
