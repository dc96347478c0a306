#include "formats/ftm_parser.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "domain/country_names.h"
#include "domain/validation.h"
#include "formats/authorities.h"
#include "formats/format_util.h"

namespace georisk::formats {
namespace {

// "ftm-" + slug fits the 128-byte slug limit.
constexpr size_t kSlugBytes = domain::kMaxSlugBytes - 4;

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
      {"upsert_edge.record_id", "id"},
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

std::string CompanyId(absl::string_view ftm_id) {
  return absl::StrCat("company/ftm-", SlugFromForeignId(ftm_id, kSlugBytes));
}

std::string PersonId(absl::string_view ftm_id) {
  return absl::StrCat("person/ftm-", SlugFromForeignId(ftm_id, kSlugBytes));
}

// What one pass of a file learnt about the ids it read, so that relations
// (Ownership, Sanction) name a person as a person and are rejected, with the
// reason, when their endpoint was. Memory: about 40 bytes an id, plus the
// reasons of rejected ones.
class FtmIndex {
 public:
  struct Node {
    int64_t line = 0;
    bool person = false;
    // Why the record of this id was rejected; empty if it was not.
    std::string rejected;
  };
  // The node seen before under this id, or null.
  const Node* Find(absl::string_view id) const {
    auto it = nodes_.find(Key(id));
    return it == nodes_.end() ? nullptr : &it->second;
  }
  Node& Insert(absl::string_view id) { return nodes_[Key(id)]; }

 private:
  // A 64-bit hash stands for the id (a collision would only mislabel a
  // relation's endpoint kind; at 10^7 ids its odds are about 3e-6).
  static uint64_t Key(absl::string_view id) { return absl::HashOf(id); }
  absl::flat_hash_map<uint64_t, Node> nodes_;
};

class FtmParser final : public RecordParser {
 public:
  FtmParser(std::istream* in, const ParserOptions& options, bool delta)
      : RecordParser(in), options_(options), delta_(delta) {
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
      absl::StatusOr<google::protobuf::Struct> object = ParseJsonObject(line_);
      if (!object.ok()) {
        if (ownerships_only) continue;
        record->reason = std::string(object.status().message());
        return true;
      }
      if (delta_) {
        Delta(*object, record);
        return true;
      }
      const std::string schema = FirstString(Member(*object, "schema"));
      const bool ownership = schema == "Ownership";
      Convert(*object, schema, record);
      // The other pass reports these; this one read them for the index.
      if (ownerships_only != ownership && options_.ftm_pass != FtmPass::kAll) {
        continue;
      }
      return true;
    }
  }

 private:
  // One line of an OpenSanctions delta file: {"op": "ADD" | "MOD" | "DEL",
  // "entity": {...}}.
  void Delta(const google::protobuf::Struct& line, ParsedRecord* record) {
    const std::string op = FirstString(Member(line, "op"));
    const google::protobuf::Value* entity = Member(line, "entity");
    if (entity == nullptr || !entity->has_struct_value()) {
      return Reject(record, "entity", "is required: an object");
    }
    const google::protobuf::Struct& object = entity->struct_value();
    if (op == "ADD" || op == "MOD") {
      Convert(object, FirstString(Member(object, "schema")), record);
      for (std::string& w : record->warnings) w = absl::StrCat("entity.", w);
      if (!record->field.empty()) {
        record->field = absl::StrCat("entity.", record->field);
      }
      return;
    }
    if (op != "DEL") {
      return Reject(
          record, "op",
          absl::StrCat("unknown op \"", absl::CHexEscape(Truncate(op, 16)),
                       "\"; expected ADD, MOD or DEL"));
    }
    const std::string id = FirstString(Member(object, "id"));
    if (id.empty()) return Reject(record, "entity.id", "is required");
    // A DEL names only the FtM id, not its schema: delete whatever that id
    // can have made (deleting an absent record is a no-op; deleting an
    // entity deletes its edges).
    const std::string slug = SlugFromForeignId(id, kSlugBytes);
    v1::Mutation m;
    m.set_delete_entity_id(absl::StrCat("company/ftm-", slug));
    record->mutations.push_back(m);
    m.set_delete_entity_id(absl::StrCat("person/ftm-", slug));
    record->mutations.push_back(m);
    m.set_delete_signal_id(absl::StrCat("signal/ftm-", slug));
    record->mutations.push_back(std::move(m));
  }

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
    // PublicBody is FtM's Organization of the state (ministries, state
    // agencies, state-owned institutes): listed as often as firms.
    const bool company = schema == "Company" || schema == "Organization" ||
                         schema == "LegalEntity" || schema == "PublicBody";
    const bool person = schema == "Person";
    if (!company && !person && schema != "Ownership" && schema != "Sanction") {
      return Reject(
          record, "schema",
          absl::StrCat("unknown schema \"",
                       absl::CHexEscape(Truncate(schema, 64)),
                       "\"; expected Company, Organization, LegalEntity, "
                       "PublicBody, Person, Ownership or Sanction"));
    }
    if (id.empty()) return Reject(record, "id", "is required");
    // Duplicates are reported; the later record replaces the earlier one.
    FtmIndex::Node* node = nullptr;
    if (const FtmIndex::Node* seen = index_.Find(id); seen != nullptr) {
      if (seen->line != record->line) {
        record->warnings.push_back(absl::StrCat(
            "id: duplicate id \"", absl::CHexEscape(Truncate(id, 80)),
            "\" (first on line ", seen->line, "); this record replaces it"));
      }
    }
    node = &index_.Insert(id);
    node->line = record->line;
    node->person = person;
    node->rejected.clear();
    // Only Finds from here on: `node` stays valid.
    ConvertKnown(object, schema, id, company || person, record);
    if (record->rejected()) {
      node->rejected = record->field.empty()
                           ? record->reason
                           : absl::StrCat(record->field, ": ", record->reason);
    }
  }

  void ConvertKnown(const google::protobuf::Struct& object,
                    const std::string& schema, const std::string& id,
                    bool party, ParsedRecord* record) {
    const bool company = party && schema != "Person";
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
    for (const auto& [name, value] : properties->fields()) {
      absl::Status shape = CheckStringValues(&value);
      if (!shape.ok()) {
        return Reject(record, absl::StrCat("properties.", name),
                      shape.message());
      }
    }
    v1::Mutation mutation;
    std::string country_property;
    if (party) {
      if (!PartyRecord(object, *properties, id, company, &mutation,
                       &country_property, record)) {
        return;
      }
    } else if (schema == "Ownership") {
      if (!OwnershipRecord(*properties, id, &mutation, record)) return;
    } else if (!SanctionRecord(*properties, id,
                               FirstString(Member(object, "datasets")),
                               &mutation, record)) {
      return;
    }
    record->mutations.push_back(std::move(mutation));
    FinishRecord(options_.limits, &FtmField, record);
    if (record->field == "properties.country" && !country_property.empty()) {
      record->field = country_property;
    }
  }

  // A Company, Organization, LegalEntity, PublicBody (company) or Person.
  bool PartyRecord(const google::protobuf::Struct& object,
                   const google::protobuf::Struct& properties,
                   const std::string& id, bool company, v1::Mutation* mutation,
                   std::string* country_property, ParsedRecord* record) {
    v1::Entity* e = mutation->mutable_upsert_entity();
    e->set_id(company ? CompanyId(id) : PersonId(id));
    e->set_kind(company ? v1::Entity::COMPANY : v1::Entity::PERSON);
    // The display name: `caption` (OpenSanctions' pick among the names),
    // else the first name.
    std::string name = FirstString(Member(object, "caption"));
    if (name.empty()) name = FirstString(Member(properties, "name"));
    if (name.empty()) {
      Reject(record, "properties.name", "is required");
      return false;
    }
    e->set_name(name);
    // A company's country is its jurisdiction; a person's, nationality,
    // then citizenship. Then `country`, `mainCountry`. Values that name no
    // country ("suhh", the USSR) are skipped with a warning; none is fine.
    static constexpr absl::string_view kCompanyCountries[] = {
        "jurisdiction", "country", "mainCountry"};
    static constexpr absl::string_view kPersonCountries[] = {
        "nationality", "citizenship", "country", "mainCountry"};
    std::vector<std::string> unknown;
    auto find_country = [&](absl::Span<const absl::string_view> props) {
      for (absl::string_view property : props) {
        for (const std::string& value : Strings(Member(properties, property))) {
          std::string iso = domain::CountryCodeFromName(value);
          if (!iso.empty()) {
            e->set_country(std::move(iso));
            *country_property = absl::StrCat("properties.", property);
            return;
          }
          unknown.push_back(absl::StrCat(
              property, " \"", absl::CHexEscape(Truncate(value, 40)), "\""));
        }
      }
    };
    if (company) {
      find_country(kCompanyCountries);
    } else {
      find_country(kPersonCountries);
    }
    if (e->country().empty() && !unknown.empty()) {
      record->warnings.push_back(absl::StrCat(
          "properties.country: no known country in ",
          absl::StrJoin(unknown, ", "), "; imported without a country"));
    }
    for (const char* property : {"name", "alias"}) {
      for (std::string& alias : Strings(Member(properties, property))) {
        if (alias != name && std::find(e->aliases().begin(), e->aliases().end(),
                                       alias) == e->aliases().end()) {
          e->add_aliases(std::move(alias));
        }
      }
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
        {"wikidataId", "wikidata"},  {"passportNumber", "passport"},
        {"idNumber", "id_number"},
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
    for (const auto& [property, endpoint] :
         {std::pair<absl::string_view, const std::string*>{"owner", &owner},
          {"asset", &asset}}) {
      const FtmIndex::Node* node = index_.Find(*endpoint);
      if (node != nullptr && !node->rejected.empty()) {
        Reject(record, absl::StrCat("properties.", property),
               absl::StrCat("its ", property, " (line ", node->line,
                            ") was rejected: ", node->rejected));
        return false;
      }
    }
    const FtmIndex::Node* asset_node = index_.Find(asset);
    if (asset_node != nullptr && asset_node->person) {
      Reject(record, "properties.asset",
             "is a Person: georisk models ownership of companies only");
      return false;
    }
    // No percentage: the fact that the owner owns the asset is kept as an
    // OWNS edge of unknown share (graph.proto, Edge.share_unknown).
    const google::protobuf::Value* percentage =
        Member(properties, "percentage");
    const std::string text = FirstString(percentage);
    if (text.empty() && percentage != nullptr &&
        !(percentage->has_list_value() &&
          percentage->list_value().values_size() == 0)) {
      // Present but blank ([""]): malformed, not "no share given".
      Reject(record, "properties.percentage", "not a percentage: \"\"");
      return false;
    }
    absl::StatusOr<double> share = 0.0;
    if (!text.empty()) {
      // FollowTheMoney writes percentages in percent.
      share = ParsePercent(text);
      if (!share.ok()) {
        Reject(record, "properties.percentage", share.status().message());
        return false;
      }
    }
    const FtmIndex::Node* owner_node = index_.Find(owner);
    v1::Edge* e = mutation->mutable_upsert_edge();
    e->set_from_id(owner_node != nullptr && owner_node->person
                       ? PersonId(owner)
                       : CompanyId(owner));
    e->set_to_id(CompanyId(asset));
    e->set_kind(v1::Edge::OWNS);
    e->set_weight(*share / 100.0);
    e->set_share_unknown(text.empty());
    // Each Ownership record is its own edge record (graph.proto).
    e->set_record_id(Truncate(id, domain::kMaxRecordIdBytes));
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
                      const std::string& id, const std::string& dataset,
                      v1::Mutation* mutation, ParsedRecord* record) {
    const std::string entity = FirstString(Member(properties, "entity"));
    if (entity.empty()) {
      Reject(record, "properties.entity", "is required");
      return false;
    }
    const FtmIndex::Node* target = index_.Find(entity);
    if (target != nullptr && !target->rejected.empty()) {
      Reject(record, "properties.entity",
             absl::StrCat("its target (line ", target->line,
                          ") was rejected: ", target->rejected));
      return false;
    }
    const std::vector<std::string> issuers =
        Strings(Member(properties, "authority"));
    const std::string issuer = issuers.empty() ? std::string() : issuers[0];
    const std::string program = FirstString(Member(properties, "program"));
    SanctionFacts facts;
    facts.authorities = issuers;
    facts.program_id = FirstString(Member(properties, "programId"));
    facts.country = FirstString(Member(properties, "country"));
    facts.dataset = dataset;
    facts.provisions = Strings(Member(properties, "provisions"));
    SanctionClass classified = ClassifySanction(facts);
    for (std::string& w : classified.warnings) {
      record->warnings.push_back(absl::StrCat("properties.authority: ", w));
    }
    v1::Signal* s = mutation->mutable_upsert_signal();
    s->set_id(absl::StrCat("signal/ftm-", SlugFromForeignId(id, kSlugBytes)));
    v1::ExportControl* c = s->mutable_export_control();
    c->set_authority(classified.authority);
    c->set_kind(v1::ExportControl::ENTITY_LISTING);
    c->set_measure(classified.measure);
    c->add_target_ids(target != nullptr && target->person ? PersonId(entity)
                                                          : CompanyId(entity));
    // No severity: FollowTheMoney does not grade measures, so the signal
    // takes the model's default for its measure (graph.proto,
    // ExportControl.severity; docs/formats.md).
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
        absl::StrCat(issuer.empty() ? classified.authority : issuer,
                     " sanction",
                     program.empty() ? "" : absl::StrCat(": ", program)),
        domain::kMaxNameBytes));
    return true;
  }

  const ParserOptions options_;
  // An OpenSanctions delta file (entities.delta.json).
  const bool delta_;
  std::string line_;
  FtmIndex index_;
};

}  // namespace

std::unique_ptr<RecordParser> NewFtmParser(std::istream* in,
                                           const ParserOptions& options) {
  return std::make_unique<FtmParser>(in, options, /*delta=*/false);
}

std::unique_ptr<RecordParser> NewFtmDeltaParser(std::istream* in,
                                                const ParserOptions& options) {
  return std::make_unique<FtmParser>(in, options, /*delta=*/true);
}

absl::StatusOr<std::vector<DeltaVersion>> DeltaVersionsAfter(
    absl::string_view index_json, absl::string_view after) {
  absl::StatusOr<google::protobuf::Struct> index = ParseJsonObject(index_json);
  if (!index.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("delta index: ", index.status().message()));
  }
  const google::protobuf::Value* versions = Member(*index, "versions");
  if (versions == nullptr || !versions->has_struct_value()) {
    return absl::InvalidArgumentError(
        "delta index: versions: is required: an object {version: url}");
  }
  std::vector<DeltaVersion> out;
  for (const auto& [version, url] : versions->struct_value().fields()) {
    if (!url.has_string_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "delta index: versions[\"", absl::CHexEscape(Truncate(version, 40)),
          "\"]: must be a string (a URL)"));
    }
    if (version > after) out.push_back({version, url.string_value()});
  }
  std::sort(out.begin(), out.end(),
            [](const DeltaVersion& a, const DeltaVersion& b) {
              return a.version < b.version;
            });
  return out;
}

}  // namespace georisk::formats
