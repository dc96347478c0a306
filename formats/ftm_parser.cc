#include "formats/ftm_parser.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "formats/format_util.h"
#include "domain/validation.h"

namespace georisk::formats {
namespace {

// "ftm-" + slug fits the 128-byte slug limit.
constexpr size_t kSlugBytes = domain::kMaxSlugBytes - 4;

struct Issuer {
  absl::string_view needle;  // Lower case.
  absl::string_view code;
};

// Looked up in order; the first needle found in the lower-cased name wins.
constexpr Issuer kIssuers[] = {
    {"office of foreign assets control", "US-OFAC"},
    {"ofac", "US-OFAC"},
    {"bureau of industry and security", "US-BIS"},
    {"department of commerce", "US-BIS"},
    {"department of state", "US-STATE"},
    {"state department", "US-STATE"},
    {"office of financial sanctions implementation", "UK-OFSI"},
    {"hm treasury", "UK-OFSI"},
    {"ofsi", "UK-OFSI"},
    {"european union", "EU"},
    {"european commission", "EU"},
    {"council of the eu", "EU"},
    {"security council", "UN"},
    {"united nations", "UN"},
    {"state secretariat for economic affairs", "CH-SECO"},
    {"seco", "CH-SECO"},
    {"ministry of economy, trade and industry", "JP-METI"},
    {"meti", "JP-METI"},
    {"mofcom", "CN-MOFCOM"},
    {"ministry of commerce of the people's republic of china", "CN-MOFCOM"},
    {"global affairs canada", "CA-GAC"},
    {"department of foreign affairs and trade", "AU-DFAT"},
    {"dfat", "AU-DFAT"},
};

// Mutation field paths -> FTM properties, for rejections.
std::string FtmField(absl::string_view path) {
  struct Map {
    absl::string_view prefix;
    absl::string_view field;
  };
  static constexpr Map kMap[] = {
      {"upsert_entity.id", "id"},
      {"upsert_entity.name", "properties.name"},
      {"upsert_entity.country", "properties.country"},
      {"upsert_entity.aliases", "properties.alias"},
      {"upsert_entity.identifiers", "properties"},
      {"upsert_entity.source", "properties.sourceUrl"},
      {"upsert_edge.from_id", "properties.owner"},
      {"upsert_edge.to_id", "properties.asset"},
      {"upsert_edge.weight", "properties.percentage"},
      {"upsert_edge.effective_from", "properties.startDate"},
      {"upsert_edge.effective_until", "properties.endDate"},
      {"upsert_edge.source", "properties.sourceUrl"},
      {"upsert_signal.id", "id"},
      {"upsert_signal.export_control.target_ids", "properties.entity"},
      {"upsert_signal.export_control.authority", "properties.authority"},
      {"upsert_signal.export_control.list", "properties.program"},
      {"upsert_signal.effective_from", "properties.startDate"},
      {"upsert_signal.effective_until", "properties.endDate"},
      {"upsert_signal.source", "properties.sourceUrl"},
      {"upsert_signal.title", "properties.program"},
  };
  for (const Map& m : kMap) {
    if (absl::StartsWith(path, m.prefix)) return std::string(m.field);
  }
  return std::string(path);
}

// True when `needle` occurs in `text` as whole words ("seco" is not in
// "second").
bool ContainsWords(absl::string_view text, absl::string_view needle) {
  for (size_t at = text.find(needle); at != absl::string_view::npos;
       at = text.find(needle, at + 1)) {
    const size_t end = at + needle.size();
    if ((at == 0 || !absl::ascii_isalnum(text[at - 1])) &&
        (end == text.size() || !absl::ascii_isalnum(text[end]))) {
      return true;
    }
  }
  return false;
}

std::string CompanyId(absl::string_view ftm_id) {
  return absl::StrCat("company/ftm-", SlugFromForeignId(ftm_id, kSlugBytes));
}

class FtmParser final : public RecordParser {
 public:
  FtmParser(std::istream* in, const ParserOptions& options)
      : RecordParser(in), options_(options) {
    reader_.SkipByteOrderMark();
  }

  bool Next(ParsedRecord* record) override {
    const bool ownerships_only = options_.ftm_pass == FtmPass::kOwnerships;
    while (true) {
      const int64_t line = reader_.line();
      int64_t length;
      const ByteReader::Line r =
          reader_.ReadLine(options_.max_record_bytes, &line_, &length);
      if (r == ByteReader::Line::kEnd) return false;
      record->Clear();
      record->line = line;
      if (r == ByteReader::Line::kTooLong) {
        if (ownerships_only) continue;
        record->reason =
            absl::StrCat("line longer than ", options_.max_record_bytes,
                         " bytes (", length, " bytes)");
        return true;
      }
      if (absl::StripAsciiWhitespace(line_).empty()) continue;
      // Cheap filter for the second pass.
      if (ownerships_only && !absl::StrContains(line_, "Ownership")) continue;
      absl::StatusOr<google::protobuf::Struct> object = ParseJsonObject(line_);
      if (!object.ok()) {
        if (ownerships_only) continue;
        record->reason = std::string(object.status().message());
        return true;
      }
      const std::string schema = FirstString(Member(*object, "schema"));
      const bool ownership = schema == "Ownership";
      if (ownerships_only != ownership && options_.ftm_pass != FtmPass::kAll) {
        continue;
      }
      Convert(*object, schema, record);
      return true;
    }
  }

 private:
  static void Reject(ParsedRecord* record, absl::string_view field,
                     absl::string_view reason) {
    record->mutations.clear();
    record->field = std::string(field);
    record->reason = std::string(reason);
  }

  // The record's source: the option, its sourceUrl, or its OpenSanctions
  // page.
  std::string Source(const google::protobuf::Struct& properties,
                     absl::string_view id) const {
    if (!options_.source.empty()) return options_.source;
    std::string url = FirstString(Member(properties, "sourceUrl"));
    if (!url.empty()) return url;
    return absl::StrCat("https://www.opensanctions.org/entities/", id, "/");
  }

  // Sets *out from a date property; false (and a rejection) if malformed.
  static bool Date(const google::protobuf::Struct& properties,
                   absl::string_view name, google::protobuf::Timestamp* out,
                   bool* set, ParsedRecord* record) {
    const std::string text = FirstString(Member(properties, name));
    *set = false;
    if (text.empty()) return true;
    absl::StatusOr<google::protobuf::Timestamp> t = ParseDate(text);
    if (!t.ok()) {
      Reject(record, absl::StrCat("properties.", name), t.status().message());
      return false;
    }
    *out = *t;
    *set = true;
    return true;
  }

  void Convert(const google::protobuf::Struct& object,
               const std::string& schema, ParsedRecord* record) {
    const std::string id = FirstString(Member(object, "id"));
    if (schema.empty()) return Reject(record, "schema", "is required");
    const bool company = schema == "Company" || schema == "Organization" ||
                         schema == "LegalEntity";
    if (!company && schema != "Ownership" && schema != "Sanction") {
      return Reject(
          record, "schema",
          absl::StrCat("unknown schema \"",
                       absl::CHexEscape(Truncate(schema, 64)),
                       "\"; expected Company, Organization, LegalEntity, "
                       "Ownership or Sanction"));
    }
    if (id.empty()) return Reject(record, "id", "is required");
    const google::protobuf::Value* properties_value =
        Member(object, "properties");
    static const google::protobuf::Struct* const kNone =
        new google::protobuf::Struct;
    const google::protobuf::Struct* properties = kNone;
    if (properties_value != nullptr) {
      if (!properties_value->has_struct_value()) {
        return Reject(record, "properties", "must be an object");
      }
      properties = &properties_value->struct_value();
    }
    v1::Mutation mutation;
    std::string country_property;
    if (company) {
      if (!CompanyRecord(object, *properties, id, &mutation, &country_property,
                         record)) {
        return;
      }
    } else if (schema == "Ownership") {
      if (!OwnershipRecord(*properties, id, &mutation, record)) return;
    } else if (!SanctionRecord(*properties, id, &mutation, record)) {
      return;
    }
    record->mutations.push_back(std::move(mutation));
    FinishRecord(options_.limits, &FtmField, record);
    if (record->field == "properties.country" && !country_property.empty()) {
      record->field = country_property;
    }
  }

  bool CompanyRecord(const google::protobuf::Struct& object,
                     const google::protobuf::Struct& properties,
                     const std::string& id, v1::Mutation* mutation,
                     std::string* country_property, ParsedRecord* record) {
    v1::Entity* e = mutation->mutable_upsert_entity();
    e->set_id(CompanyId(id));
    e->set_kind(v1::Entity::COMPANY);
    std::string name = FirstString(Member(properties, "name"));
    if (name.empty()) name = FirstString(Member(object, "caption"));
    if (name.empty()) {
      Reject(record, "properties.name", "is required");
      return false;
    }
    e->set_name(name);
    for (absl::string_view property :
         {"jurisdiction", "country", "mainCountry"}) {
      std::string country = FirstString(Member(properties, property));
      if (!country.empty()) {
        e->set_country(std::move(country));
        *country_property = absl::StrCat("properties.", property);
        break;
      }
    }
    if (e->country().empty()) {
      Reject(record, "properties.country",
             "is required: none of jurisdiction, country, mainCountry is set");
      return false;
    }
    for (std::string& alias : Strings(Member(properties, "alias"))) {
      if (alias != name) e->add_aliases(std::move(alias));
    }
    struct Scheme {
      absl::string_view property;
      absl::string_view scheme;
    };
    static constexpr Scheme kSchemes[] = {
        {"leiCode", "lei"},          {"registrationNumber", "registration"},
        {"innCode", "inn"},          {"ogrnCode", "ogrn"},
        {"taxNumber", "tax_number"}, {"swiftBic", "swift_bic"},
        {"dunsCode", "duns"},        {"permId", "perm_id"},
        {"wikidataId", "wikidata"},
    };
    (*e->mutable_identifiers())["opensanctions"] = id;
    for (const Scheme& s : kSchemes) {
      std::string value = FirstString(Member(properties, s.property));
      if (!value.empty()) {
        (*e->mutable_identifiers())[std::string(s.scheme)] = std::move(value);
      }
    }
    e->set_source(Source(properties, id));
    return true;
  }

  bool OwnershipRecord(const google::protobuf::Struct& properties,
                       const std::string& id, v1::Mutation* mutation,
                       ParsedRecord* record) {
    const std::string owner = FirstString(Member(properties, "owner"));
    const std::string asset = FirstString(Member(properties, "asset"));
    if (owner.empty()) {
      Reject(record, "properties.owner", "is required");
      return false;
    }
    if (asset.empty()) {
      Reject(record, "properties.asset", "is required");
      return false;
    }
    absl::string_view percentage;
    const std::string text = FirstString(Member(properties, "percentage"));
    percentage = text;
    if (percentage.empty()) {
      Reject(record, "properties.percentage",
             "is required: an OWNS edge needs the share");
      return false;
    }
    absl::ConsumeSuffix(&percentage, "%");
    // A band ("50-75") counts as its lower bound.
    const size_t dash = percentage.find('-', 1);
    if (dash != absl::string_view::npos &&
        (absl::ascii_isdigit(percentage[dash - 1]) ||
         percentage[dash - 1] == ' ')) {
      percentage = percentage.substr(0, dash);
    }
    absl::StatusOr<double> share = ParseNumber(percentage);
    if (!share.ok()) {
      Reject(record, "properties.percentage", share.status().message());
      return false;
    }
    if (!(*share >= 0 && *share <= 100)) {
      Reject(record, "properties.percentage",
             absl::StrCat("must be in [0, 100], got ", *share));
      return false;
    }
    v1::Edge* e = mutation->mutable_upsert_edge();
    e->set_from_id(CompanyId(owner));
    e->set_to_id(CompanyId(asset));
    e->set_kind(v1::Edge::OWNS);
    e->set_weight(*share / 100.0);
    bool set;
    if (!Date(properties, "startDate", e->mutable_effective_from(), &set,
              record)) {
      return false;
    }
    if (!set) e->clear_effective_from();
    if (!Date(properties, "endDate", e->mutable_effective_until(), &set,
              record)) {
      return false;
    }
    if (!set) e->clear_effective_until();
    e->set_source(Source(properties, id));
    return true;
  }

  bool SanctionRecord(const google::protobuf::Struct& properties,
                      const std::string& id, v1::Mutation* mutation,
                      ParsedRecord* record) {
    const std::string entity = FirstString(Member(properties, "entity"));
    if (entity.empty()) {
      Reject(record, "properties.entity", "is required");
      return false;
    }
    const std::string issuer = FirstString(Member(properties, "authority"));
    const std::string program = FirstString(Member(properties, "program"));
    std::string authority = AuthorityCode(issuer);
    if (authority.empty()) authority = AuthorityCode(program);
    if (authority.size() < 2) {
      Reject(record, "properties.authority",
             "is required: neither authority nor program names the issuer");
      return false;
    }
    v1::Signal* s = mutation->mutable_upsert_signal();
    s->set_id(absl::StrCat("signal/ftm-", SlugFromForeignId(id, kSlugBytes)));
    v1::ExportControl* c = s->mutable_export_control();
    c->set_authority(authority);
    c->set_kind(v1::ExportControl::ENTITY_LISTING);
    c->add_target_ids(CompanyId(entity));
    c->set_severity(kFtmSanctionSeverity);
    std::string list = program;
    if (list.empty()) list = FirstString(Member(properties, "programId"));
    c->set_list(Truncate(list, domain::kMaxNameBytes));
    bool set;
    if (!Date(properties, "startDate", s->mutable_effective_from(), &set,
              record)) {
      return false;
    }
    if (!set && !Date(properties, "listingDate", s->mutable_effective_from(),
                      &set, record)) {
      return false;
    }
    if (!set) s->clear_effective_from();
    if (!Date(properties, "endDate", s->mutable_effective_until(), &set,
              record)) {
      return false;
    }
    if (!set) s->clear_effective_until();
    s->set_source(Source(properties, id));
    s->set_title(Truncate(
        absl::StrCat(issuer.empty() ? authority : issuer, " sanction",
                     program.empty() ? "" : absl::StrCat(": ", program)),
        domain::kMaxNameBytes));
    return true;
  }

  const ParserOptions options_;
  std::string line_;
};

}  // namespace

std::unique_ptr<RecordParser> NewFtmParser(std::istream* in,
                                           const ParserOptions& options) {
  return std::make_unique<FtmParser>(in, options);
}

std::string AuthorityCode(absl::string_view issuer) {
  const std::string lower =
      absl::AsciiStrToLower(absl::StripAsciiWhitespace(issuer));
  if (lower.empty()) return "";
  for (const Issuer& i : kIssuers) {
    if (ContainsWords(lower, i.needle)) return std::string(i.code);
  }
  std::string code;
  for (char c : lower) {
    if (code.size() >= 32) break;
    if (absl::ascii_isalnum(c)) {
      code.push_back(absl::ascii_toupper(c));
    } else if (!code.empty() && code.back() != '-') {
      code.push_back('-');
    }
  }
  while (!code.empty() && code.back() == '-') code.pop_back();
  return code;
}

}  // namespace georisk::formats
