#include "formats/csv_parser.h"

#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/types/span.h"
#include "formats/csv_reader.h"
#include "formats/format_util.h"

namespace georisk::formats {
namespace {

struct Column {
  absl::string_view name;
  bool required;
};

// Entities.
enum EntityColumn {
  kId,
  kKind,
  kName,
  kCountry,
  kRegion,
  kLatitude,
  kLongitude,
  kFacilityType,
  kProductCodes,
  kAliases,
  kIdentifiers,
  kEntitySource,
  kEntityKey,
  kEntityColumns
};
constexpr Column kEntitySchema[kEntityColumns] = {
    {"id", true},
    {"kind", false},
    {"name", true},
    {"country", true},
    {"region", false},
    {"latitude", false},
    {"longitude", false},
    {"facility_type", false},
    {"product_codes", false},
    {"aliases", false},
    {"identifiers", false},
    {"source", true},
    {"idempotency_key", false},
};

// Edges.
enum EdgeColumn {
  kFromId,
  kToId,
  kEdgeKind,
  kWeight,
  kProductCode,
  kAnnualValue,
  kEffectiveFrom,
  kEffectiveUntil,
  kEdgeSource,
  kEdgeKey,
  kEdgeColumns
};
constexpr Column kEdgeSchema[kEdgeColumns] = {
    {"from_id", true},
    {"to_id", true},
    {"kind", true},
    {"weight", true},
    {"product_code", false},
    {"annual_value_usd", false},
    {"effective_from", false},
    {"effective_until", false},
    {"source", true},
    {"idempotency_key", false},
};

// "upsert_entity.location.latitude" -> "latitude";
// "upsert_entity.aliases[2]" -> "aliases"; "idempotency_key" stays.
std::string ColumnOf(absl::string_view path) {
  if (!absl::ConsumePrefix(&path, "upsert_entity.")) {
    absl::ConsumePrefix(&path, "upsert_edge.");
  }
  absl::ConsumePrefix(&path, "location.");
  path = path.substr(0, path.find_first_of(".["));
  return std::string(path);
}

// A row's cells by column, absent columns as empty cells.
class Row {
 public:
  Row(const std::vector<int>* index, std::vector<std::string>* cells)
      : index_(index), cells_(cells) {}
  const std::string& operator[](int column) const {
    static const std::string* const kEmpty = new std::string;
    const int i = (*index_)[column];
    return i < 0 ? *kEmpty : (*cells_)[i];
  }
  bool empty(int column) const {
    return absl::StripAsciiWhitespace((*this)[column]).empty();
  }

 private:
  const std::vector<int>* index_;
  std::vector<std::string>* cells_;
};

class CsvParser final : public RecordParser {
 public:
  CsvParser(CsvKind kind, std::istream* in, const ParserOptions& options)
      : RecordParser(in),
        kind_(kind),
        options_(options),
        csv_(&reader_, CsvOptions{',', options.max_record_bytes, 64}) {
    reader_.SkipByteOrderMark();
  }

  bool Next(ParsedRecord* record) override {
    if (done_) return false;
    while (true) {
      std::string error;
      const CsvReader::Result r = csv_.Next(&cells_, &error);
      if (r == CsvReader::Result::kEnd) return false;
      record->Clear();
      record->line = csv_.record_line();
      if (r == CsvReader::Result::kError) {
        record->reason = std::move(error);
        if (index_.empty()) {
          // Without a header nothing else can be read.
          record->field = "header";
          done_ = true;
        }
        return true;
      }
      if (index_.empty()) {
        if (!ReadHeader(record)) {
          done_ = true;
          return true;
        }
        continue;
      }
      if (cells_.size() == 1 && absl::StripAsciiWhitespace(cells_[0]).empty()) {
        continue;  // A line of blanks.
      }
      if (cells_.size() != width_) {
        record->reason = absl::StrCat("row has ", cells_.size(),
                                      " fields, the header has ", width_);
        return true;
      }
      const Row row(&index_, &cells_);
      v1::Mutation mutation;
      const bool ok = kind_ == CsvKind::kEntities
                          ? EntityRow(row, &mutation, record)
                          : EdgeRow(row, &mutation, record);
      if (!ok) return true;
      record->mutations.push_back(std::move(mutation));
      FinishRecord(options_.limits, &ColumnOf, record);
      return true;
    }
  }

 private:
  absl::Span<const Column> Schema() const {
    return kind_ == CsvKind::kEntities ? absl::MakeConstSpan(kEntitySchema)
                                       : absl::MakeConstSpan(kEdgeSchema);
  }

  bool ReadHeader(ParsedRecord* record) {
    const absl::Span<const Column> schema = Schema();
    index_.assign(schema.size(), -1);
    width_ = cells_.size();
    std::vector<std::string> names;
    for (const Column& c : schema) names.emplace_back(c.name);
    for (size_t i = 0; i < cells_.size(); ++i) {
      const std::string name =
          absl::AsciiStrToLower(absl::StripAsciiWhitespace(cells_[i]));
      size_t column = 0;
      while (column < schema.size() && schema[column].name != name) ++column;
      record->field = "header";
      if (column == schema.size()) {
        record->reason = absl::StrCat(
            "unknown column \"", absl::CHexEscape(Truncate(name, 64)),
            "\"; the columns are ", absl::StrJoin(names, ", "));
        return false;
      }
      if (index_[column] >= 0) {
        record->reason = absl::StrCat("column \"", name, "\" appears twice");
        return false;
      }
      index_[column] = static_cast<int>(i);
    }
    for (size_t column = 0; column < schema.size(); ++column) {
      if (schema[column].required && index_[column] < 0) {
        record->field = "header";
        record->reason = absl::StrCat("required column \"", schema[column].name,
                                      "\" is missing");
        return false;
      }
    }
    record->field.clear();
    return true;
  }

  static bool Reject(ParsedRecord* record, absl::string_view field,
                     absl::string_view reason) {
    record->field = std::string(field);
    record->reason = std::string(reason);
    return false;
  }

  // Parses a number cell into *out; false (and a rejection) if malformed.
  static bool Number(const Row& row, int column, absl::string_view name,
                     double* out, ParsedRecord* record) {
    absl::StatusOr<double> v = ParseNumber(row[column]);
    if (!v.ok()) return Reject(record, name, v.status().message());
    *out = *v;
    return true;
  }

  static bool Date(const Row& row, int column, absl::string_view name,
                   google::protobuf::Timestamp* out, ParsedRecord* record) {
    absl::StatusOr<google::protobuf::Timestamp> t = ParseDate(row[column]);
    if (!t.ok()) return Reject(record, name, t.status().message());
    *out = *t;
    return true;
  }

  bool EntityRow(const Row& row, v1::Mutation* mutation, ParsedRecord* record) {
    v1::Entity* e = mutation->mutable_upsert_entity();
    e->set_id(row[kId]);
    const std::string id(absl::StripAsciiWhitespace(row[kId]));
    if (!row.empty(kKind)) {
      const std::string kind =
          absl::AsciiStrToUpper(absl::StripAsciiWhitespace(row[kKind]));
      v1::Entity::Kind parsed;
      if (!v1::Entity::Kind_Parse(kind, &parsed) ||
          parsed == v1::Entity::KIND_UNSPECIFIED) {
        return Reject(record, "kind",
                      absl::StrCat("unknown kind \"",
                                   absl::CHexEscape(Truncate(kind, 64)),
                                   "\"; expected COMPANY, FACILITY or PERSON"));
      }
      e->set_kind(parsed);
    } else if (absl::StartsWith(id, "company/")) {
      e->set_kind(v1::Entity::COMPANY);
    } else if (absl::StartsWith(id, "facility/")) {
      e->set_kind(v1::Entity::FACILITY);
    } else if (absl::StartsWith(id, "person/")) {
      e->set_kind(v1::Entity::PERSON);
    }
    e->set_name(row[kName]);
    e->set_country(row[kCountry]);
    e->set_region(row[kRegion]);
    if (!row.empty(kLatitude) || !row.empty(kLongitude)) {
      if (row.empty(kLatitude) || row.empty(kLongitude)) {
        return Reject(record, row.empty(kLatitude) ? "latitude" : "longitude",
                      "latitude and longitude are given together or not at "
                      "all");
      }
      double lat, lon;
      if (!Number(row, kLatitude, "latitude", &lat, record) ||
          !Number(row, kLongitude, "longitude", &lon, record)) {
        return false;
      }
      e->mutable_location()->set_latitude(lat);
      e->mutable_location()->set_longitude(lon);
    }
    if (!row.empty(kFacilityType)) {
      const std::string type =
          absl::AsciiStrToUpper(absl::StripAsciiWhitespace(row[kFacilityType]));
      v1::Entity::FacilityType parsed;
      if (!v1::Entity::FacilityType_Parse(type, &parsed) ||
          parsed == v1::Entity::FACILITY_TYPE_UNSPECIFIED) {
        return Reject(record, "facility_type",
                      absl::StrCat("unknown facility type \"",
                                   absl::CHexEscape(Truncate(type, 64)),
                                   "\"; expected FAB, PACKAGING_AND_TEST, "
                                   "ASSEMBLY, DATA_CENTER, PLANT, WAREHOUSE, "
                                   "RESEARCH, OFFICE or OTHER"));
      }
      e->set_facility_type(parsed);
    }
    for (std::string& code : SplitList(row[kProductCodes])) {
      e->add_product_codes(std::move(code));
    }
    for (std::string& alias : SplitList(row[kAliases])) {
      e->add_aliases(std::move(alias));
    }
    for (const std::string& item : SplitList(row[kIdentifiers])) {
      const size_t eq = item.find('=');
      if (eq == std::string::npos) {
        return Reject(record, "identifiers",
                      absl::StrCat("expected scheme=value, got \"",
                                   absl::CHexEscape(Truncate(item, 64)), "\""));
      }
      (*e->mutable_identifiers())[std::string(
          absl::StripAsciiWhitespace(absl::string_view(item).substr(0, eq)))] =
          std::string(absl::StripAsciiWhitespace(
              absl::string_view(item).substr(eq + 1)));
    }
    e->set_source(row[kEntitySource]);
    mutation->set_idempotency_key(
        std::string(absl::StripAsciiWhitespace(row[kEntityKey])));
    return true;
  }

  bool EdgeRow(const Row& row, v1::Mutation* mutation, ParsedRecord* record) {
    v1::Edge* e = mutation->mutable_upsert_edge();
    e->set_from_id(row[kFromId]);
    e->set_to_id(row[kToId]);
    const std::string kind =
        absl::AsciiStrToUpper(absl::StripAsciiWhitespace(row[kEdgeKind]));
    v1::Edge::Kind parsed;
    if (kind.empty()) return Reject(record, "kind", "is required");
    if (!v1::Edge::Kind_Parse(kind, &parsed) ||
        parsed == v1::Edge::KIND_UNSPECIFIED) {
      return Reject(
          record, "kind",
          absl::StrCat("unknown kind \"", absl::CHexEscape(Truncate(kind, 64)),
                       "\"; expected OWNS, OPERATES or SUPPLIES"));
    }
    e->set_kind(parsed);
    if (row.empty(kWeight)) return Reject(record, "weight", "is required");
    double weight;
    if (!Number(row, kWeight, "weight", &weight, record)) return false;
    e->set_weight(weight);
    e->set_product_code(row[kProductCode]);
    if (!row.empty(kAnnualValue)) {
      double value;
      if (!Number(row, kAnnualValue, "annual_value_usd", &value, record)) {
        return false;
      }
      e->set_annual_value_usd(value);
    }
    if (!row.empty(kEffectiveFrom) &&
        !Date(row, kEffectiveFrom, "effective_from",
              e->mutable_effective_from(), record)) {
      return false;
    }
    if (!row.empty(kEffectiveUntil) &&
        !Date(row, kEffectiveUntil, "effective_until",
              e->mutable_effective_until(), record)) {
      return false;
    }
    e->set_source(row[kEdgeSource]);
    mutation->set_idempotency_key(
        std::string(absl::StripAsciiWhitespace(row[kEdgeKey])));
    return true;
  }

  const CsvKind kind_;
  const ParserOptions options_;
  CsvReader csv_;
  // Column -> cell index, -1 when absent; empty until the header is read.
  std::vector<int> index_;
  size_t width_ = 0;
  std::vector<std::string> cells_;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<RecordParser> NewCsvParser(CsvKind kind, std::istream* in,
                                           const ParserOptions& options) {
  return std::make_unique<CsvParser>(kind, in, options);
}

}  // namespace georisk::formats
