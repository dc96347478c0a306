#include "formats/csl_parser.h"

#include <openssl/sha.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "domain/country_codes.h"
#include "domain/country_names.h"
#include "domain/validation.h"
#include "formats/authorities.h"
#include "formats/csl_ids.h"
#include "formats/csv_reader.h"
#include "formats/format_util.h"
#include "formats/json_scanner.h"

namespace georisk::formats {
namespace {

constexpr CslList kLists[] = {
    // Commerce, Bureau of Industry and Security.
    {"EL", "Entity List", "US-BIS", 0.8},
    {"MEU", "Military End-User List", "US-BIS", 0.6},
    {"UVL", "Unverified List", "US-BIS", 0.3},
    {"DPL", "Denied Persons List", "US-BIS", 1.0},
    // Treasury, Office of Foreign Assets Control.
    {"SDN", "Specially Designated Nationals List", "US-OFAC", 1.0},
    {"SSI", "Sectoral Sanctions Identifications List", "US-OFAC", 0.5},
    {"FSE", "Foreign Sanctions Evaders List", "US-OFAC", 0.9},
    {"CAP", "CAPTA List", "US-OFAC", 0.5},
    {"CMIC", "Non-SDN Chinese Military-Industrial Complex Companies List",
     "US-OFAC", 0.5},
    {"MBS", "Non-SDN Menu-Based Sanctions List", "US-OFAC", 0.5},
    {"PLC", "Palestinian Legislative Council List", "US-OFAC", 0.3},
    // State.
    {"ISN", "Nonproliferation Sanctions", "US-STATE", 0.8},
    {"DTC", "ITAR Debarred", "US-STATE", 0.9},
};

constexpr absl::string_view kDefaultEntitySource =
    "https://www.trade.gov/consolidated-screening-list";

// "csl-" + code + "-" fits in the 128-byte slug limit.
constexpr size_t kSlugBytes = domain::kMaxSlugBytes - 10;

// One CSL row, from either shape.
struct CslRow {
  std::string source;
  std::string entity_number;
  std::string id;
  // "Entity", "Individual", "Vessel"; empty on BIS and State lists.
  std::string type;
  std::string name;
  std::string start_date;
  std::string end_date;
  std::string federal_register_notice;
  std::string source_list_url;
  std::string source_information_url;
  std::vector<std::string> alt_names;
  // The addresses as the row writes them (for the derived id).
  std::string addresses;
  // Country candidates, as written: those of the addresses, in order (CSV:
  // each address's last part, trailing postal codes left out), the JSON
  // row's top-level `country`, then nationalities and citizenships.
  std::vector<std::string> countries;
  // The `ids` entries (formats/csl_ids.h).
  std::vector<CslIdEntry> ids;
};

std::string HexSha224(absl::string_view text) {
  unsigned char digest[SHA224_DIGEST_LENGTH];
  SHA224(reinterpret_cast<const unsigned char*>(text.data()), text.size(),
         digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

std::string LowerStrip(absl::string_view text) {
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
}

// Mutation field paths -> CSL columns, for rejections.
std::string CslField(absl::string_view path) {
  struct Map {
    absl::string_view prefix;
    absl::string_view column;
  };
  static constexpr Map kMap[] = {
      {"upsert_entity.id", "entity_number"},
      {"upsert_entity.name", "name"},
      {"upsert_entity.country", "addresses"},
      {"upsert_entity.aliases", "alt_names"},
      {"upsert_entity.identifiers", "entity_number"},
      {"upsert_entity.source", "source_information_url"},
      {"upsert_signal.id", "entity_number"},
      {"upsert_signal.effective_from", "start_date"},
      {"upsert_signal.effective_until", "end_date"},
      {"upsert_signal.title", "name"},
      {"upsert_signal.", "source"},
  };
  for (const Map& m : kMap) {
    if (absl::StartsWith(path, m.prefix)) return std::string(m.column);
  }
  return std::string(path);
}

void Reject(ParsedRecord* record, absl::string_view field,
            absl::string_view reason) {
  record->mutations.clear();
  record->field = std::string(field);
  record->reason = std::string(reason);
}

// A row's identity: the slug of its ids, and trade.gov's `_id` when the row
// has a stable one (given, or derived as trade.gov derives it).
struct CslId {
  std::string slug;
  std::string csl_id;
};

// docs/formats.md, "CSL ids". In order:
//   - Treasury rows: their entity_number (OFAC's own id);
//   - MEU and DTC rows: trade.gov's `_id` there is a random uuid made at
//     every build, so it is ignored and the georisk hash below is used;
//   - a given `_id` (EL, DPL, UVL, ISN: a hash of the row's name, stable);
//   - rows of the older layout, without `_id`: trade.gov's own `_id`
//     computed as its generator does, sha224(lower(strip(name)) +
//     lower(strip(federal_register_notice))) for EL, DPL and ISN,
//     sha224(lower(strip(name))) for UVL (csl-importers, GAPS.md §5), so
//     that both layouts land on one entity;
//   - otherwise "h-" + 32 hex digits of sha224 over the list code, name,
//     federal_register_notice, addresses and start_date (lower-cased,
//     stripped, joined by U+001F): stable from download to download, and
//     distinct for same-name rows with other addresses.
CslId CslRowId(const CslRow& row, const CslList& list) {
  CslId out;
  if (!row.entity_number.empty()) {
    out.slug = SlugFromForeignId(row.entity_number, kSlugBytes);
    out.csl_id = row.id;
    return out;
  }
  const absl::string_view code = list.code;
  const bool random_id = code == "MEU" || code == "DTC";
  if (!random_id && !row.id.empty()) {
    out.csl_id = row.id;
  } else if (!random_id && (code == "EL" || code == "DPL" || code == "ISN")) {
    out.csl_id = HexSha224(absl::StrCat(
        LowerStrip(row.name), LowerStrip(row.federal_register_notice)));
  } else if (code == "UVL") {
    out.csl_id = HexSha224(LowerStrip(row.name));
  }
  if (!out.csl_id.empty()) {
    out.slug =
        absl::StrCat("id-", SlugFromForeignId(out.csl_id, kSlugBytes - 3));
    return out;
  }
  const std::string hash = HexSha224(
      absl::StrJoin({LowerStrip(code), LowerStrip(row.name),
                     LowerStrip(row.federal_register_notice),
                     LowerStrip(row.addresses), LowerStrip(row.start_date)},
                    "\x1f"));
  out.slug = absl::StrCat("h-", hash.substr(0, 32));
  return out;
}

// Turns a row into its two records, or a rejection.
void MapRow(const CslRow& row, const ParserOptions& options,
            ParsedRecord* record) {
  if (row.source == "source" && row.name == "name") {
    return Reject(record, "",
                  "a repeated header row (the CSV's header written again)");
  }
  const CslList* list = FindCslList(row.source);
  if (list == nullptr) {
    return Reject(record, "source",
                  row.source.empty()
                      ? std::string("is required")
                      : absl::StrCat("unknown list \"",
                                     absl::CHexEscape(Truncate(row.source, 80)),
                                     "\"; expected EL, MEU, UVL, DPL, SDN, "
                                     "SSI, FSE, CAP, CMIC, MBS, PLC, ISN or "
                                     "DTC"));
  }
  if (row.name.empty()) return Reject(record, "name", "is required");
  const CslId id = CslRowId(row, *list);
  const std::string code = absl::AsciiStrToLower(list->code);
  const bool person = absl::EqualsIgnoreCase(row.type, "Individual");
  const std::string entity_id =
      absl::StrCat(person ? "person/csl-" : "company/csl-", code, "-", id.slug);

  v1::Mutation party;
  v1::Entity* e = party.mutable_upsert_entity();
  e->set_id(entity_id);
  e->set_kind(person ? v1::Entity::PERSON : v1::Entity::COMPANY);
  e->set_name(row.name);
  // The first candidate that names a country; none is a warning, not a
  // rejection: a listing matters even where no address is known.
  for (const std::string& c : row.countries) {
    std::string iso = domain::CountryCodeFromName(c);
    if (!iso.empty()) {
      e->set_country(std::move(iso));
      break;
    }
  }
  if (e->country().empty() && !row.countries.empty()) {
    std::vector<std::string> quoted;
    for (const std::string& c : row.countries) {
      quoted.push_back(
          absl::StrCat("\"", absl::CHexEscape(Truncate(c, 40)), "\""));
    }
    record->warnings.push_back(absl::StrCat("addresses: no known country in ",
                                            absl::StrJoin(quoted, ", "),
                                            "; imported without a country"));
  }
  for (const std::string& alias : row.alt_names) {
    if (alias != row.name) e->add_aliases(alias);
  }
  if (!row.entity_number.empty()) {
    (*e->mutable_identifiers())["csl_entity_number"] = row.entity_number;
  }
  if (!id.csl_id.empty()) (*e->mutable_identifiers())["csl_id"] = id.csl_id;
  CslIdentifiers ids = MapCslIds(row.ids);
  for (auto& [scheme, value] : ids.identifiers) {
    e->mutable_identifiers()->insert({scheme, std::move(value)});
  }
  for (std::string& alias : ids.aliases) {
    if (alias != row.name && std::find(e->aliases().begin(), e->aliases().end(),
                                       alias) == e->aliases().end()) {
      e->add_aliases(std::move(alias));
    }
  }
  for (std::string& note : ids.notes) {
    record->warnings.push_back(std::move(note));
  }
  std::string entity_source = options.source;
  if (entity_source.empty()) entity_source = row.source_information_url;
  if (entity_source.empty()) entity_source = row.source_list_url;
  if (entity_source.empty()) entity_source = std::string(kDefaultEntitySource);
  e->set_source(entity_source);

  v1::Mutation listing;
  v1::Signal* s = listing.mutable_upsert_signal();
  s->set_id(absl::StrCat("signal/csl-", code, "-", id.slug));
  v1::ExportControl* c = s->mutable_export_control();
  c->set_authority(std::string(list->authority));
  c->set_kind(v1::ExportControl::ENTITY_LISTING);
  c->add_target_ids(entity_id);
  c->set_severity(list->severity);
  c->set_list(std::string(list->code));
  c->set_measure(CslListMeasure(list->code));
  if (!row.start_date.empty()) {
    absl::StatusOr<google::protobuf::Timestamp> t = ParseDate(row.start_date);
    if (!t.ok()) return Reject(record, "start_date", t.status().message());
    *s->mutable_effective_from() = *t;
  }
  if (!row.end_date.empty()) {
    absl::StatusOr<google::protobuf::Timestamp> t = ParseDate(row.end_date);
    if (!t.ok()) return Reject(record, "end_date", t.status().message());
    *s->mutable_effective_until() = *t;
  }
  s->set_source(options.source.empty()
                    ? absl::StrCat("trade.gov/csl:", list->code)
                    : options.source);
  s->set_title(Truncate(
      absl::StrCat(list->name, " (", list->code, "): ", row.name,
                   row.federal_register_notice.empty()
                       ? ""
                       : absl::StrCat(", ", row.federal_register_notice)),
      domain::kMaxNameBytes));
  record->mutations.push_back(std::move(party));
  record->mutations.push_back(std::move(listing));
  FinishRecord(options.limits, &CslField, record);
}

// True for a postal code: digits, with letters only beside digits
// ("79905", "78045-5509", "633104", "SW1A 1AA" is not caught and is then
// an unknown country).
bool IsPostalCode(absl::string_view part) {
  bool digit = false;
  for (char c : part) {
    if (absl::ascii_isdigit(c)) {
      digit = true;
    } else if (c != '-' && c != ' ') {
      return false;
    }
  }
  return digit;
}

// CSV: "addr, city, state, postal code, CN; addr2, ..., RU" -> CN, RU. Each
// address's country is its last non-empty part ("…, Tehran, Iran, " ->
// "Iran"), with trailing digits left out ("…, China 100083" -> "China"). An
// address whose last part is a postal code has no country (the Denied
// Persons List writes US addresses as "…, EL PASO, TX, 79905"): the part
// before it is a state, not a country, and is not looked at.
std::vector<std::string> AddressCountries(absl::string_view cell) {
  std::vector<std::string> out;
  for (const std::string& address : SplitList(cell)) {
    std::vector<absl::string_view> parts = absl::StrSplit(address, ',');
    while (!parts.empty() && absl::StripAsciiWhitespace(parts.back()).empty()) {
      parts.pop_back();
    }
    if (parts.empty()) continue;
    absl::string_view last = absl::StripAsciiWhitespace(parts.back());
    if (IsPostalCode(last)) continue;
    while (!last.empty() && (absl::ascii_isdigit(last.back()) ||
                             last.back() == '-' || last.back() == ' ')) {
      last.remove_suffix(1);
    }
    if (!last.empty()) out.emplace_back(last);
  }
  return out;
}

// The CSV shape.
class CslCsvParser final : public RecordParser {
 public:
  CslCsvParser(std::istream* in, const ParserOptions& options)
      : RecordParser(in),
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
        if (!have_header_) {
          record->field = "header";
          done_ = true;
        }
        return true;
      }
      if (!have_header_) {
        if (!ReadHeader(record)) {
          done_ = true;
          return true;
        }
        continue;
      }
      if (cells_.size() == 1 && absl::StripAsciiWhitespace(cells_[0]).empty()) {
        continue;
      }
      if (cells_.size() != width_) {
        record->reason = absl::StrCat("row has ", cells_.size(),
                                      " fields, the header has ", width_);
        return true;
      }
      CslRow row;
      row.source = Cell(kSource);
      row.entity_number = Cell(kEntityNumber);
      row.id = Cell(kId);
      row.type = Cell(kType);
      row.name = Cell(kName);
      row.start_date = Cell(kStartDate);
      row.end_date = Cell(kEndDate);
      row.federal_register_notice = Cell(kFederalRegisterNotice);
      row.source_list_url = Cell(kSourceListUrl);
      row.source_information_url = Cell(kSourceInformationUrl);
      row.alt_names = SplitList(Cell(kAltNames));
      row.addresses = Cell(kAddresses);
      row.countries = AddressCountries(row.addresses);
      row.ids = ParseCslIdsCell(Cell(kIds));
      for (int column : {kNationalities, kCitizenships}) {
        for (std::string& c : SplitList(Cell(column))) {
          row.countries.push_back(std::move(c));
        }
      }
      MapRow(row, options_, record);
      return true;
    }
  }

 private:
  enum Column {
    kSource,
    kEntityNumber,
    kId,
    kType,
    kName,
    kStartDate,
    kEndDate,
    kFederalRegisterNotice,
    kSourceListUrl,
    kSourceInformationUrl,
    kAltNames,
    kAddresses,
    kNationalities,
    kCitizenships,
    kIds,
    kColumns
  };

  std::string Cell(int column) const {
    const int i = index_[column];
    if (i < 0) return "";
    return std::string(absl::StripAsciiWhitespace(cells_[i]));
  }

  bool ReadHeader(ParsedRecord* record) {
    static constexpr absl::string_view kNames[kColumns] = {
        "source",
        "entity_number",
        "id",
        "type",
        "name",
        "start_date",
        "end_date",
        "federal_register_notice",
        "source_list_url",
        "source_information_url",
        "alt_names",
        "addresses",
        "nationalities",
        "citizenships",
        "ids",
    };
    index_.assign(kColumns, -1);
    width_ = cells_.size();
    for (size_t i = 0; i < cells_.size(); ++i) {
      std::string name =
          absl::AsciiStrToLower(absl::StripAsciiWhitespace(cells_[i]));
      if (name == "_id") name = "id";
      for (int column = 0; column < kColumns; ++column) {
        if (kNames[column] == name && index_[column] < 0) {
          index_[column] = static_cast<int>(i);
        }
      }
    }
    for (int column : {kSource, kName}) {
      if (index_[column] < 0) {
        record->field = "header";
        record->reason =
            absl::StrCat("required column \"", kNames[column], "\" is missing");
        return false;
      }
    }
    if (index_[kEntityNumber] < 0 && index_[kId] < 0) {
      record->field = "header";
      record->reason =
          "required column \"entity_number\" (or \"id\") is missing";
      return false;
    }
    have_header_ = true;
    return true;
  }

  const ParserOptions options_;
  CsvReader csv_;
  bool have_header_ = false;
  bool done_ = false;
  std::vector<int> index_;
  size_t width_ = 0;
  std::vector<std::string> cells_;
};

// The JSON shape.
class CslJsonParser final : public RecordParser {
 public:
  CslJsonParser(std::istream* in, const ParserOptions& options)
      : RecordParser(in),
        options_(options),
        scanner_(&reader_, {options.max_record_bytes, "results"}) {}

  bool Next(ParsedRecord* record) override {
    std::string text, error;
    const JsonRecordScanner::Result r = scanner_.Next(&text, &error);
    if (r == JsonRecordScanner::Result::kEnd) return false;
    record->Clear();
    record->line = scanner_.record_line();
    if (r == JsonRecordScanner::Result::kError) {
      record->reason = std::move(error);
      return true;
    }
    absl::StatusOr<google::protobuf::Struct> object = ParseJsonObject(text);
    if (!object.ok()) {
      record->reason = std::string(object.status().message());
      return true;
    }
    for (absl::string_view key :
         {"source", "entity_number", "id", "_id", "type", "name", "country",
          "start_date", "end_date", "federal_register_notice", "alt_names",
          "nationalities", "citizenships"}) {
      absl::Status shape = CheckStringValues(Member(*object, key));
      if (!shape.ok()) {
        record->field = std::string(key);
        record->reason = std::string(shape.message());
        return true;
      }
    }
    CslRow row;
    row.source = FirstString(Member(*object, "source"));
    row.type = FirstString(Member(*object, "type"));
    row.entity_number = FirstString(Member(*object, "entity_number"));
    row.id = FirstString(Member(*object, "id"));
    if (row.id.empty()) row.id = FirstString(Member(*object, "_id"));
    row.name = FirstString(Member(*object, "name"));
    row.start_date = FirstString(Member(*object, "start_date"));
    row.end_date = FirstString(Member(*object, "end_date"));
    row.federal_register_notice =
        FirstString(Member(*object, "federal_register_notice"));
    row.source_list_url = FirstString(Member(*object, "source_list_url"));
    row.source_information_url =
        FirstString(Member(*object, "source_information_url"));
    row.alt_names = ListOf(Member(*object, "alt_names"));
    const google::protobuf::Value* addresses = Member(*object, "addresses");
    if (addresses != nullptr && addresses->has_list_value()) {
      for (const auto& address : addresses->list_value().values()) {
        if (!address.has_struct_value()) continue;
        const auto& a = address.struct_value();
        std::string c = FirstString(Member(a, "country"));
        absl::StrAppend(&row.addresses, row.addresses.empty() ? "" : "; ",
                        FirstString(Member(a, "address")), ", ",
                        FirstString(Member(a, "city")), ", ",
                        FirstString(Member(a, "postal_code")), ", ", c);
        if (!c.empty()) row.countries.push_back(std::move(c));
      }
    }
    // ISN rows carry the State Department's country here, and only in the
    // JSON (GAPS.md §6).
    std::string country = FirstString(Member(*object, "country"));
    if (!country.empty()) row.countries.push_back(std::move(country));
    for (absl::string_view key : {"nationalities", "citizenships"}) {
      for (std::string& c : ListOf(Member(*object, key))) {
        row.countries.push_back(std::move(c));
      }
    }
    const google::protobuf::Value* ids = Member(*object, "ids");
    if (ids != nullptr && ids->has_string_value()) {
      row.ids = ParseCslIdsCell(ids->string_value());
    } else if (ids != nullptr && ids->has_list_value()) {
      for (const auto& entry : ids->list_value().values()) {
        if (!entry.has_struct_value()) continue;
        const auto& fields = entry.struct_value();
        row.ids.push_back({FirstString(Member(fields, "type")),
                           FirstString(Member(fields, "number")),
                           FirstString(Member(fields, "country"))});
      }
    }
    MapRow(row, options_, record);
    return true;
  }

 private:
  // An array of strings, or one string of ';'-separated items.
  static std::vector<std::string> ListOf(const google::protobuf::Value* v) {
    if (v != nullptr && v->has_string_value()) {
      return SplitList(v->string_value());
    }
    return Strings(v);
  }

  const ParserOptions options_;
  JsonRecordScanner scanner_;
};

}  // namespace

absl::Span<const CslList> CslLists() { return kLists; }

const CslList* FindCslList(absl::string_view source) {
  // A code: "EL", "NS-MBS List" (trade.gov's spellings vary).
  auto find = [](absl::string_view code) -> const CslList* {
    code = absl::StripAsciiWhitespace(code);
    if (code.size() > 5 && absl::EndsWithIgnoreCase(code, " list")) {
      code.remove_suffix(5);
    }
    if (absl::StartsWithIgnoreCase(code, "NS-")) code.remove_prefix(3);
    for (const CslList& list : kLists) {
      if (absl::EqualsIgnoreCase(code, list.code)) return &list;
    }
    return nullptr;
  };
  if (const CslList* list = find(source)) return list;
  // "Entity List (EL) - Bureau of Industry and Security": the code is in
  // one of the parentheses.
  for (size_t open = source.find('('); open != absl::string_view::npos;
       open = source.find('(', open + 1)) {
    const size_t close = source.find(')', open);
    if (close == absl::string_view::npos) break;
    if (const CslList* list = find(source.substr(open + 1, close - open - 1))) {
      return list;
    }
  }
  return nullptr;
}

std::unique_ptr<RecordParser> NewCslParser(CslShape shape, std::istream* in,
                                           const ParserOptions& options) {
  if (shape == CslShape::kCsv) {
    return std::make_unique<CslCsvParser>(in, options);
  }
  return std::make_unique<CslJsonParser>(in, options);
}

}  // namespace georisk::formats
