#include "services/common/scenario_file.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"
#include "services/common/log.h"
#include "yaml-cpp/yaml.h"

namespace georisk::common {
namespace {

// YAML -> JSON text, so a YAML scenario parses with protobuf's JSON mapping.
void YamlToJson(const YAML::Node& node, std::string* out) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      *out += "{";
      bool first = true;
      for (const auto& kv : node) {
        if (!first) *out += ",";
        first = false;
        *out += "\"";
        *out += log::JsonEscape(kv.first.as<std::string>());
        *out += "\":";
        YamlToJson(kv.second, out);
      }
      *out += "}";
      break;
    }
    case YAML::NodeType::Sequence: {
      *out += "[";
      for (size_t i = 0; i < node.size(); ++i) {
        if (i > 0) *out += ",";
        YamlToJson(node[i], out);
      }
      *out += "]";
      break;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      double number;
      if (node.Tag() != "!" &&
          (s == "true" || s == "false" ||
           (absl::SimpleAtod(s, &number) && !s.empty() &&
            (absl::ascii_isdigit(static_cast<unsigned char>(s[0])) ||
             s[0] == '-' || s[0] == '.')))) {
        *out += s;
      } else {
        *out += "\"" + log::JsonEscape(s) + "\"";
      }
      break;
    }
    default:
      *out += "null";
  }
}

}  // namespace

absl::StatusOr<v1::Scenario> ReadScenarioFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseScenario(ss.str(), path);
}

absl::StatusOr<v1::Scenario> ParseScenario(absl::string_view text,
                                           const std::string& path) {
  std::string json(text);
  absl::string_view trimmed = absl::StripLeadingAsciiWhitespace(text);
  bool yaml = absl::EndsWith(path, ".yaml") || absl::EndsWith(path, ".yml") ||
              (!trimmed.empty() && trimmed[0] != '{');
  if (yaml) {
    try {
      json.clear();
      YamlToJson(YAML::Load(std::string(text)), &json);
    } catch (const YAML::Exception& e) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what()));
    }
  }
  v1::Scenario scenario;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto parsed =
      google::protobuf::util::JsonStringToMessage(json, &scenario, options);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": not a georisk.v1.Scenario: ", std::string(parsed.message())));
  }
  return scenario;
}

}  // namespace georisk::common
