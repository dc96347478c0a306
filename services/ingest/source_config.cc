#include "services/ingest/source_config.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "formats/parsers.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace georisk::ingest {
namespace {

constexpr int64_t kDefaultMaxBytes = int64_t{512} << 20;

// Collects the text parser's first error.
class ErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (error_.empty()) {
      error_ = absl::StrCat("line ", line + 1, ", column ", column + 1, ": ",
                            message);
    }
  }
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

bool ValidName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '_' &&
        c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

absl::Status Bad(int index, absl::string_view name, absl::string_view field,
                 absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("sources[", index, "]", name.empty() ? "" : " (", name,
                   name.empty() ? "" : ")", ".", field, ": ", why));
}

// Parses `text` (a duration field; `fallback` when empty) into `out`.
absl::Status Duration(int index, const v1::SourceConfig& c,
                      absl::string_view field, const std::string& text,
                      absl::Duration fallback, absl::Duration min,
                      absl::Duration* out) {
  if (text.empty()) {
    *out = fallback;
  } else if (!absl::ParseDuration(text, out)) {
    return Bad(
        index, c.name(), field,
        absl::StrCat("not a duration (e.g. \"1h\"), got \"", text, "\""));
  }
  if (*out < min) {
    return Bad(index, c.name(), field,
               absl::StrCat("must be >= ", absl::FormatDuration(min),
                            ", got \"", absl::FormatDuration(*out), "\""));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<Source>> ValidateSources(
    const v1::SourcesConfig& config) {
  std::vector<Source> sources;
  absl::flat_hash_set<std::string> names;
  for (int i = 0; i < config.sources_size(); ++i) {
    const v1::SourceConfig& c = config.sources(i);
    Source s;
    s.config = c;
    if (!ValidName(c.name())) {
      return Bad(
          i, c.name(), "name",
          absl::StrCat("must match [a-z0-9_.-]{1,64}, got \"", c.name(), "\""));
    }
    if (!names.insert(c.name()).second) {
      return Bad(i, c.name(), "name", "used by an earlier source");
    }
    if (!absl::StartsWith(c.url(), "http://") &&
        !absl::StartsWith(c.url(), "https://") &&
        !absl::StartsWith(c.url(), "file://")) {
      return Bad(i, c.name(), "url",
                 absl::StrCat("must start with http://, https:// or file://, "
                              "got \"",
                              c.url(), "\""));
    }
    if (c.format().empty()) s.config.set_format("auto");
    if (!formats::ParseFormatName(s.config.format()).ok()) {
      return Bad(i, c.name(), "format",
                 absl::StrCat("not a format of formats/parsers.h: \"",
                              c.format(), "\""));
    }
    if (c.interval().empty()) {
      return Bad(i, c.name(), "interval", "required (e.g. \"1h\")");
    }
    absl::Status st = Duration(i, c, "interval", c.interval(), absl::Hours(1),
                               absl::Seconds(1), &s.interval);
    if (!st.ok()) return st;
    st = Duration(i, c, "timeout", c.timeout(), absl::Minutes(5),
                  absl::Milliseconds(1), &s.timeout);
    if (!st.ok()) return st;
    st = Duration(i, c, "retry_initial", c.retry_initial(), absl::Minutes(1),
                  absl::Milliseconds(1), &s.retry_initial);
    if (!st.ok()) return st;
    // Snapshot sources, each with the field that names it.
    std::vector<std::pair<std::string, std::string>> snapshot;
    if (!c.snapshot_source().empty()) {
      snapshot.emplace_back("snapshot_source", c.snapshot_source());
    }
    for (int k = 0; k < c.snapshot_sources_size(); ++k) {
      snapshot.emplace_back(absl::StrCat("snapshot_sources[", k, "]"),
                            c.snapshot_sources(k));
    }
    if (snapshot.empty() == !c.delta()) {
      return Bad(i, c.name(), "snapshot_source",
                 "set exactly one of snapshot semantics (snapshot_source, "
                 "snapshot_sources) and delta");
    }
    for (const auto& [field, source] : snapshot) {
      if (source.empty() ||
          absl::StripAsciiWhitespace(source).size() != source.size()) {
        return Bad(i, c.name(), field,
                   "must be a source as records carry it (not empty, no "
                   "surrounding blanks)");
      }
      if (std::find(s.snapshot_sources.begin(), s.snapshot_sources.end(),
                    source) != s.snapshot_sources.end()) {
        return Bad(i, c.name(), field,
                   absl::StrCat("\"", source, "\" is given twice"));
      }
      s.snapshot_sources.push_back(source);
    }
    if (c.delta_index() && !c.delta()) {
      return Bad(i, c.name(), "delta_index", "needs delta: true");
    }
    if (c.max_bytes() < 0) {
      return Bad(i, c.name(), "max_bytes", "must be >= 0 (0: 512 MiB)");
    }
    s.max_bytes = c.max_bytes() > 0 ? c.max_bytes() : kDefaultMaxBytes;
    if (c.max_ended_fraction() < 0 || c.max_ended_fraction() > 1) {
      return Bad(
          i, c.name(), "max_ended_fraction",
          absl::StrCat("must be in (0, 1], got ", c.max_ended_fraction()));
    }
    s.max_ended_fraction =
        c.max_ended_fraction() > 0 ? c.max_ended_fraction() : 0.5;
    if (!c.auth_header_file().empty() && !c.auth_header_env().empty()) {
      return Bad(i, c.name(), "auth_header_file",
                 "set at most one of auth_header_file and auth_header_env");
    }
    sources.push_back(std::move(s));
  }
  return sources;
}

absl::StatusOr<std::vector<Source>> ParseSourcesConfig(absl::string_view text) {
  v1::SourcesConfig config;
  google::protobuf::TextFormat::Parser parser;
  ErrorCollector errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), &config)) {
    return absl::InvalidArgumentError(
        absl::StrCat("sources config: ", errors.error()));
  }
  return ValidateSources(config);
}

absl::StatusOr<std::vector<Source>> LoadSourcesConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<std::vector<Source>> sources = ParseSourcesConfig(text.str());
  if (!sources.ok()) {
    return absl::Status(sources.status().code(),
                        absl::StrCat(path, ": ", sources.status().message()));
  }
  return sources;
}

absl::StatusOr<std::string> ReadAuthHeader(const v1::SourceConfig& config) {
  if (!config.auth_header_file().empty()) {
    std::ifstream in(config.auth_header_file());
    if (!in) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot read auth_header_file ", config.auth_header_file()));
    }
    std::stringstream text;
    text << in.rdbuf();
    std::string header = text.str();
    absl::StripTrailingAsciiWhitespace(&header);
    return header;
  }
  if (!config.auth_header_env().empty()) {
    const char* value = std::getenv(config.auth_header_env().c_str());
    if (value == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "auth_header_env ", config.auth_header_env(), " is not set"));
    }
    return std::string(value);
  }
  return std::string();
}

}  // namespace georisk::ingest
