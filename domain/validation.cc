#include "domain/validation.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "domain/country_codes.h"

namespace georisk::domain {
namespace {

// Range of google.protobuf.Timestamp: 0001-01-01 to 9999-12-31.
constexpr int64_t kMinTimestampSeconds = -62135596800;
constexpr int64_t kMaxTimestampSeconds = 253402300799;
// Longest value quoted back in an error message.
constexpr size_t kMaxQuotedBytes = 80;

std::string Quote(absl::string_view value) {
  if (value.size() <= kMaxQuotedBytes) return absl::CHexEscape(value);
  return absl::StrCat(absl::CHexEscape(value.substr(0, kMaxQuotedBytes)),
                      "...");
}

// `value` with the fewest digits that read back as the same double, so that
// 1.0000001 is not reported as "1" (StrCat keeps only 6 significant digits).
std::string Number(double value) {
  for (int precision = 6; precision < 17; ++precision) {
    std::string text = absl::StrFormat("%.*g", precision, value);
    if (std::strtod(text.c_str(), nullptr) == value) return text;
  }
  return absl::StrFormat("%.17g", value);
}

std::string Field(absl::string_view path, absl::string_view field) {
  if (path.empty()) return std::string(field);
  return absl::StrCat(path, ".", field);
}

std::string Index(absl::string_view path, int index) {
  return absl::StrCat(path, "[", index, "]");
}

std::string MapEntry(absl::string_view path, absl::string_view key) {
  return absl::StrCat(path, "[\"", Quote(key), "\"]");
}

absl::Status Invalid(absl::string_view path, absl::string_view why) {
  if (path.empty()) return absl::InvalidArgumentError(why);
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", why));
}

absl::Status Required(absl::string_view path) {
  return Invalid(path, "is required");
}

bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t min;
    uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
      len = 2, min = 0x80, cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3, min = 0x800, cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4, min = 0x10000, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = cp << 6 | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += len;
  }
  return true;
}

// Free text: valid UTF-8, at most `max_bytes`, and, when `required`, not
// blank.
absl::Status CheckText(absl::string_view value, bool required, size_t max_bytes,
                       absl::string_view path) {
  if (absl::StripAsciiWhitespace(value).empty()) {
    if (required) return Required(path);
    if (value.empty()) return absl::OkStatus();
    return Invalid(path, "must not be blank");
  }
  if (value.size() > max_bytes) {
    return Invalid(path, absl::StrCat("must be at most ", max_bytes,
                                      " bytes, got ", value.size()));
  }
  if (!IsValidUtf8(value)) return Invalid(path, "must be valid UTF-8");
  return absl::OkStatus();
}

// Matches [chars]{min,max} where `allowed` tests one character.
template <typename Pred>
bool AllOf(absl::string_view s, size_t min, size_t max, Pred allowed) {
  if (s.size() < min || s.size() > max) return false;
  for (char c : s) {
    if (!allowed(c)) return false;
  }
  return true;
}

bool IsSlugChar(char c) {
  return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

absl::Status CheckUnitInterval(double value, absl::string_view path) {
  if (!(value >= 0.0 && value <= 1.0)) {
    return Invalid(path,
                   absl::StrCat("must be in [0, 1], got ", Number(value)));
  }
  return absl::OkStatus();
}

absl::Status CheckNonNegative(double value, absl::string_view path) {
  if (!(value >= 0.0) || std::isinf(value)) {
    return Invalid(path, absl::StrCat("must be a finite number >= 0, got ",
                                      Number(value)));
  }
  return absl::OkStatus();
}

absl::Status CheckCountry(absl::string_view code, absl::string_view path) {
  if (code.empty()) return Required(path);
  if (!IsIso3166Alpha2(code)) {
    return Invalid(path,
                   absl::StrCat("must be an ISO 3166-1 alpha-2 code, got \"",
                                Quote(code), "\""));
  }
  return absl::OkStatus();
}

absl::Status CheckHsCode(absl::string_view code, absl::string_view path) {
  if (!IsHsCode(code)) {
    return Invalid(path, absl::StrCat("must be an HS code of 2 to 10 digits, "
                                      "got \"",
                                      Quote(code), "\""));
  }
  return absl::OkStatus();
}

absl::Status CheckHsCodes(
    const google::protobuf::RepeatedPtrField<std::string>& codes,
    absl::string_view path) {
  for (int i = 0; i < codes.size(); ++i) {
    absl::Status s = CheckHsCode(codes[i], Index(path, i));
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status CheckTimestamp(const google::protobuf::Timestamp& t,
                            absl::string_view path) {
  if (t.seconds() < kMinTimestampSeconds ||
      t.seconds() > kMaxTimestampSeconds || t.nanos() < 0 ||
      t.nanos() > 999999999) {
    return Invalid(path, "must be a valid timestamp between years 1 and 9999");
  }
  return absl::OkStatus();
}

// effective_from / effective_until of an edge or a signal.
template <typename Record>
absl::Status CheckWindow(const Record& r, absl::string_view path) {
  if (r.has_effective_from()) {
    absl::Status s =
        CheckTimestamp(r.effective_from(), Field(path, "effective_from"));
    if (!s.ok()) return s;
  }
  if (r.has_effective_until()) {
    absl::Status s =
        CheckTimestamp(r.effective_until(), Field(path, "effective_until"));
    if (!s.ok()) return s;
  }
  if (r.has_effective_from() && r.has_effective_until()) {
    const auto& from = r.effective_from();
    const auto& until = r.effective_until();
    if (until.seconds() < from.seconds() ||
        (until.seconds() == from.seconds() && until.nanos() <= from.nanos())) {
      return Invalid(Field(path, "effective_until"),
                     "must be after effective_from");
    }
  }
  return absl::OkStatus();
}

bool IsCompanyId(absl::string_view id) {
  return absl::StartsWith(id, "company/");
}
bool IsFacilityId(absl::string_view id) {
  return absl::StartsWith(id, "facility/");
}
bool IsPersonId(absl::string_view id) {
  return absl::StartsWith(id, "person/");
}

// Edge.record_id / EdgeKey.record_id: optional, printable ASCII.
absl::Status CheckRecordId(absl::string_view record_id,
                           absl::string_view path) {
  if (record_id.empty()) return absl::OkStatus();
  if (!AllOf(record_id, 1, kMaxRecordIdBytes,
             [](char c) { return c > ' ' && c < 0x7f; })) {
    return Invalid(path, absl::StrCat("must be at most ", kMaxRecordIdBytes,
                                      " bytes of printable ASCII without "
                                      "spaces, got \"",
                                      Quote(record_id), "\""));
  }
  return absl::OkStatus();
}

absl::Status CheckEdgeKind(int kind, absl::string_view path) {
  if (kind == v1::Edge::KIND_UNSPECIFIED) return Required(path);
  if (!v1::Edge::Kind_IsValid(kind)) {
    return Invalid(path, absl::StrCat("unknown edge kind ", kind));
  }
  return absl::OkStatus();
}

// The identity of an edge: endpoints, kind, product code. Shared by Edge and
// EdgeKey, whose fields have the same names.
absl::Status CheckEdgeIdentity(absl::string_view from_id, int kind,
                               absl::string_view to_id,
                               absl::string_view product_code,
                               absl::string_view record_id,
                               absl::string_view path) {
  const std::string from_path = Field(path, "from_id");
  const std::string to_path = Field(path, "to_id");
  absl::Status s = ValidateId(from_id, IdKind::kEntity, from_path);
  if (!s.ok()) return s;
  s = ValidateId(to_id, IdKind::kEntity, to_path);
  if (!s.ok()) return s;
  s = CheckEdgeKind(kind, Field(path, "kind"));
  if (!s.ok()) return s;
  switch (kind) {
    case v1::Edge::OWNS:
      if (!IsCompanyId(from_id) && !IsPersonId(from_id)) {
        return Invalid(from_path, "must be a company or a person for OWNS");
      }
      if (!IsCompanyId(to_id)) {
        return Invalid(to_path, "must be a company for OWNS");
      }
      break;
    case v1::Edge::OPERATES:
      if (!IsCompanyId(from_id)) {
        return Invalid(from_path, "must be a company for OPERATES");
      }
      if (!IsFacilityId(to_id)) {
        return Invalid(to_path, "must be a facility for OPERATES");
      }
      break;
    case v1::Edge::SUPPLIES:
      // A person supplies nothing and is nobody's customer.
      if (IsPersonId(from_id)) {
        return Invalid(from_path,
                       "must be a company or a facility for SUPPLIES");
      }
      if (IsPersonId(to_id)) {
        return Invalid(to_path, "must be a company or a facility for SUPPLIES");
      }
      break;
    default:
      break;
  }
  if (from_id == to_id && kind != v1::Edge::OWNS) {
    return Invalid(to_path, "must differ from from_id except for OWNS");
  }
  const std::string code_path = Field(path, "product_code");
  if (kind != v1::Edge::SUPPLIES) {
    if (!product_code.empty()) {
      return Invalid(code_path, "must be empty unless kind is SUPPLIES");
    }
  } else if (!product_code.empty()) {
    absl::Status s = CheckHsCode(product_code, code_path);
    if (!s.ok()) return s;
  }
  return CheckRecordId(record_id, Field(path, "record_id"));
}

absl::Status ValidateExportControl(const v1::ExportControl& c,
                                   absl::string_view path) {
  const std::string authority_path = Field(path, "authority");
  if (c.authority().empty()) return Required(authority_path);
  if (!AllOf(c.authority(), 2, 32, [](char ch) {
        return absl::ascii_isupper(ch) || absl::ascii_isdigit(ch) || ch == '-';
      })) {
    return Invalid(authority_path,
                   absl::StrCat("must match [A-Z0-9-]{2,32}, got \"",
                                Quote(c.authority()), "\""));
  }
  const std::string kind_path = Field(path, "kind");
  if (c.kind() == v1::ExportControl::KIND_UNSPECIFIED) {
    return Required(kind_path);
  }
  if (!v1::ExportControl::Kind_IsValid(c.kind())) {
    return Invalid(kind_path,
                   absl::StrCat("unknown export control kind ", c.kind()));
  }
  if (!v1::ExportControl::Measure_IsValid(c.measure())) {
    return Invalid(Field(path, "measure"),
                   absl::StrCat("unknown measure ", c.measure()));
  }
  const std::string targets_path = Field(path, "target_ids");
  const std::string destinations_path = Field(path, "destination_countries");
  const std::string codes_path = Field(path, "product_codes");
  if (c.kind() == v1::ExportControl::DESTINATION_CONTROL) {
    if (!c.target_ids().empty()) {
      return Invalid(targets_path, "must be empty for DESTINATION_CONTROL");
    }
    if (c.destination_countries().empty()) {
      return Invalid(destinations_path,
                     "at least one country is required for "
                     "DESTINATION_CONTROL");
    }
    for (int i = 0; i < c.destination_countries_size(); ++i) {
      absl::Status s =
          CheckCountry(c.destination_countries(i), Index(destinations_path, i));
      if (!s.ok()) return s;
    }
    absl::Status s = CheckHsCodes(c.product_codes(), codes_path);
    if (!s.ok()) return s;
  } else {
    const bool facilities_only =
        c.kind() == v1::ExportControl::FACILITY_AUTHORIZATION_REVOKED;
    const absl::string_view kind_name = v1::ExportControl::Kind_Name(c.kind());
    if (c.target_ids().empty()) {
      return Invalid(targets_path, absl::StrCat("at least one target is "
                                                "required for ",
                                                kind_name));
    }
    for (int i = 0; i < c.target_ids_size(); ++i) {
      absl::Status s =
          ValidateId(c.target_ids(i),
                     facilities_only ? IdKind::kFacility : IdKind::kEntity,
                     Index(targets_path, i));
      if (!s.ok()) return s;
    }
    if (!c.destination_countries().empty()) {
      return Invalid(destinations_path,
                     absl::StrCat("must be empty for ", kind_name));
    }
    if (!c.product_codes().empty()) {
      return Invalid(codes_path, absl::StrCat("must be empty for ", kind_name));
    }
  }
  // 0 with a measure: the model's default severity for that measure
  // (graph.proto, ExportControl.severity).
  const bool model_default =
      c.severity() == 0.0 &&
      c.measure() != v1::ExportControl::MEASURE_UNSPECIFIED;
  if (!model_default && !(c.severity() > 0.0 && c.severity() <= 1.0)) {
    return Invalid(
        Field(path, "severity"),
        absl::StrCat("must be in (0, 1], got ", Number(c.severity())));
  }
  return CheckText(c.list(), /*required=*/false, kMaxNameBytes,
                   Field(path, "list"));
}

absl::Status ValidateTariff(const v1::Tariff& t, absl::string_view path) {
  absl::Status s = CheckText(t.programme(), /*required=*/true, kMaxNameBytes,
                             Field(path, "programme"));
  if (!s.ok()) return s;
  s = CheckCountry(t.importer_country(), Field(path, "importer_country"));
  if (!s.ok()) return s;
  if (t.origin_country() != "*") {
    const std::string origin_path = Field(path, "origin_country");
    if (t.origin_country().empty()) return Required(origin_path);
    if (!IsIso3166Alpha2(t.origin_country())) {
      return Invalid(origin_path,
                     absl::StrCat("must be an ISO 3166-1 alpha-2 code or "
                                  "\"*\", got \"",
                                  Quote(t.origin_country()), "\""));
    }
  }
  if (!t.hs_prefix().empty()) {
    s = CheckHsCode(t.hs_prefix(), Field(path, "hs_prefix"));
    if (!s.ok()) return s;
  }
  return CheckNonNegative(t.rate(), Field(path, "rate"));
}

absl::Status ValidateTension(const v1::Tension& t, absl::string_view path) {
  const std::string theatre_path = Field(path, "theatre");
  if (t.theatre().empty()) return Required(theatre_path);
  if (!AllOf(t.theatre(), 1, 64, [](char c) {
        return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_';
      })) {
    return Invalid(theatre_path,
                   absl::StrCat("must match [a-z0-9_]{1,64}, got \"",
                                Quote(t.theatre()), "\""));
  }
  absl::Status s = CheckUnitInterval(t.level(), Field(path, "level"));
  if (!s.ok()) return s;
  const std::string weights_path = Field(path, "country_weights");
  for (const auto& [country, weight] : t.country_weights()) {
    const std::string entry = MapEntry(weights_path, country);
    s = CheckCountry(country, entry);
    if (!s.ok()) return s;
    s = CheckUnitInterval(weight, entry);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateId(absl::string_view id, IdKind kind,
                        absl::string_view path) {
  if (id.empty()) return Required(path);
  const size_t slash = id.find('/');
  const absl::string_view prefix = slash == absl::string_view::npos
                                       ? absl::string_view()
                                       : id.substr(0, slash);
  bool prefix_ok = false;
  absl::string_view expected;
  switch (kind) {
    case IdKind::kCompany:
      prefix_ok = prefix == "company";
      expected = "\"company/<slug>\"";
      break;
    case IdKind::kFacility:
      prefix_ok = prefix == "facility";
      expected = "\"facility/<slug>\"";
      break;
    case IdKind::kPerson:
      prefix_ok = prefix == "person";
      expected = "\"person/<slug>\"";
      break;
    case IdKind::kEntity:
      prefix_ok =
          prefix == "company" || prefix == "facility" || prefix == "person";
      expected = "\"company/<slug>\", \"facility/<slug>\" or \"person/<slug>\"";
      break;
    case IdKind::kSignal:
      prefix_ok = prefix == "signal";
      expected = "\"signal/<slug>\"";
      break;
  }
  const absl::string_view slug = slash == absl::string_view::npos
                                     ? absl::string_view()
                                     : id.substr(slash + 1);
  const bool slug_ok =
      !slug.empty() && slug.size() <= kMaxSlugBytes &&
      (absl::ascii_islower(slug[0]) || absl::ascii_isdigit(slug[0])) &&
      AllOf(slug, 1, kMaxSlugBytes, IsSlugChar);
  if (!prefix_ok || !slug_ok) {
    return Invalid(path, absl::StrCat("must be ", expected,
                                      " with a slug matching "
                                      "[a-z0-9][a-z0-9._:-]{0,127}, got \"",
                                      Quote(id), "\""));
  }
  return absl::OkStatus();
}

bool IsHsCode(absl::string_view code) {
  return AllOf(code, 2, 10, [](char c) { return absl::ascii_isdigit(c); });
}

absl::Status ValidateEntity(const v1::Entity& e, absl::string_view path) {
  const std::string id_path = Field(path, "id");
  absl::Status s = ValidateId(e.id(), IdKind::kEntity, id_path);
  if (!s.ok()) return s;
  const std::string kind_path = Field(path, "kind");
  if (e.kind() == v1::Entity::KIND_UNSPECIFIED) return Required(kind_path);
  if (!v1::Entity::Kind_IsValid(e.kind())) {
    return Invalid(kind_path, absl::StrCat("unknown entity kind ", e.kind()));
  }
  const bool company = e.kind() == v1::Entity::COMPANY;
  const bool person = e.kind() == v1::Entity::PERSON;
  const bool facility = e.kind() == v1::Entity::FACILITY;
  if (company && !IsCompanyId(e.id())) {
    return Invalid(id_path, "must start with \"company/\" for a COMPANY");
  }
  if (facility && !IsFacilityId(e.id())) {
    return Invalid(id_path, "must start with \"facility/\" for a FACILITY");
  }
  if (person && !IsPersonId(e.id())) {
    return Invalid(id_path, "must start with \"person/\" for a PERSON");
  }
  s = CheckText(e.name(), /*required=*/true, kMaxNameBytes,
                Field(path, "name"));
  if (!s.ok()) return s;
  // A facility has a location; a company or a person may have no known
  // address (graph.proto).
  if (facility || !e.country().empty()) {
    s = CheckCountry(e.country(), Field(path, "country"));
    if (!s.ok()) return s;
  }
  if (!e.region().empty()) {
    const absl::string_view region = e.region();
    const bool shape_ok =
        region.size() >= 4 && region.size() <= 6 && region[2] == '-' &&
        AllOf(region.substr(3), 1, 3, [](char c) {
          return absl::ascii_isupper(c) || absl::ascii_isdigit(c);
        });
    if (!shape_ok || region.substr(0, 2) != e.country()) {
      return Invalid(Field(path, "region"),
                     absl::StrCat("must be an ISO 3166-2 code of country \"",
                                  e.country(), "\" (\"", e.country(),
                                  "-XXX\"), got \"", Quote(region), "\""));
    }
  }
  if (e.has_location()) {
    const double lat = e.location().latitude();
    const double lon = e.location().longitude();
    if (!(lat >= -90.0 && lat <= 90.0)) {
      return Invalid(Field(path, "location.latitude"),
                     absl::StrCat("must be in [-90, 90], got ", Number(lat)));
    }
    if (!(lon >= -180.0 && lon <= 180.0)) {
      return Invalid(Field(path, "location.longitude"),
                     absl::StrCat("must be in [-180, 180], got ", Number(lon)));
    }
  }
  const std::string type_path = Field(path, "facility_type");
  if (!v1::Entity::FacilityType_IsValid(e.facility_type())) {
    return Invalid(type_path,
                   absl::StrCat("unknown facility type ", e.facility_type()));
  }
  if (!facility && e.facility_type() != v1::Entity::FACILITY_TYPE_UNSPECIFIED) {
    return Invalid(type_path, absl::StrCat("must be unset for a ",
                                           v1::Entity::Kind_Name(e.kind())));
  }
  if (person && e.has_location()) {
    return Invalid(Field(path, "location"), "must be unset for a PERSON");
  }
  if (person && !e.product_codes().empty()) {
    return Invalid(Field(path, "product_codes"),
                   "must be empty for a PERSON (a person sells nothing)");
  }
  s = CheckHsCodes(e.product_codes(), Field(path, "product_codes"));
  if (!s.ok()) return s;
  const std::string identifiers_path = Field(path, "identifiers");
  for (const auto& [scheme, value] : e.identifiers()) {
    const std::string entry = MapEntry(identifiers_path, scheme);
    if (!AllOf(scheme, 1, 64, [](char c) {
          return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' ||
                 c == '-' || c == '.';
        })) {
      return Invalid(entry, "scheme must match [a-z0-9_.-]{1,64}");
    }
    s = CheckText(value, /*required=*/true, kMaxNameBytes, entry);
    if (!s.ok()) return s;
  }
  const std::string aliases_path = Field(path, "aliases");
  for (int i = 0; i < e.aliases_size(); ++i) {
    s = CheckText(e.aliases(i), /*required=*/true, kMaxNameBytes,
                  Index(aliases_path, i));
    if (!s.ok()) return s;
  }
  return CheckText(e.source(), /*required=*/true, kMaxSourceBytes,
                   Field(path, "source"));
}

absl::Status ValidateEdge(const v1::Edge& e, absl::string_view path) {
  absl::Status s = CheckEdgeIdentity(e.from_id(), e.kind(), e.to_id(),
                                     e.product_code(), e.record_id(), path);
  if (!s.ok()) return s;
  s = CheckUnitInterval(e.weight(), Field(path, "weight"));
  if (!s.ok()) return s;
  const std::string value_path = Field(path, "annual_value_usd");
  s = CheckNonNegative(e.annual_value_usd(), value_path);
  if (!s.ok()) return s;
  if (e.annual_value_usd() != 0.0 && e.kind() != v1::Edge::SUPPLIES) {
    return Invalid(value_path, "must be 0 unless kind is SUPPLIES");
  }
  if (e.share_unknown()) {
    const std::string unknown_path = Field(path, "share_unknown");
    if (e.kind() != v1::Edge::OWNS) {
      return Invalid(unknown_path, "may be set only when kind is OWNS");
    }
    if (e.weight() != 0.0) {
      return Invalid(Field(path, "weight"),
                     "must be 0 when share_unknown is set");
    }
  }
  s = CheckWindow(e, path);
  if (!s.ok()) return s;
  return CheckText(e.source(), /*required=*/true, kMaxSourceBytes,
                   Field(path, "source"));
}

absl::Status ValidateEdgeKey(const v1::EdgeKey& k, absl::string_view path) {
  return CheckEdgeIdentity(k.from_id(), k.kind(), k.to_id(), k.product_code(),
                           k.record_id(), path);
}

absl::Status ValidateSignal(const v1::Signal& sig, absl::string_view path) {
  absl::Status s = ValidateId(sig.id(), IdKind::kSignal, Field(path, "id"));
  if (!s.ok()) return s;
  switch (sig.detail_case()) {
    case v1::Signal::kExportControl:
      s = ValidateExportControl(sig.export_control(),
                                Field(path, "export_control"));
      break;
    case v1::Signal::kTariff:
      s = ValidateTariff(sig.tariff(), Field(path, "tariff"));
      break;
    case v1::Signal::kTension:
      s = ValidateTension(sig.tension(), Field(path, "tension"));
      break;
    case v1::Signal::DETAIL_NOT_SET:
      return Invalid(Field(path, "detail"),
                     "one of export_control, tariff, tension is required");
  }
  if (!s.ok()) return s;
  s = CheckWindow(sig, path);
  if (!s.ok()) return s;
  s = CheckText(sig.source(), /*required=*/true, kMaxSourceBytes,
                Field(path, "source"));
  if (!s.ok()) return s;
  return CheckText(sig.title(), /*required=*/false, kMaxNameBytes,
                   Field(path, "title"));
}

namespace {

// The kind part of an entity id: "company" of "company/x".
absl::string_view IdPrefix(absl::string_view id) {
  return id.substr(0, id.find('/'));
}

// A link's pair: two valid entity ids, different, of one kind.
absl::Status CheckLinkPair(absl::string_view a, absl::string_view b,
                           absl::string_view path) {
  const std::string a_path = Field(path, "entity_a");
  const std::string b_path = Field(path, "entity_b");
  absl::Status s = ValidateId(a, IdKind::kEntity, a_path);
  if (!s.ok()) return s;
  s = ValidateId(b, IdKind::kEntity, b_path);
  if (!s.ok()) return s;
  if (a == b) return Invalid(b_path, "must differ from entity_a");
  if (IdPrefix(a) != IdPrefix(b)) {
    return Invalid(b_path,
                   absl::StrCat("must be of entity_a's kind (", IdPrefix(a),
                                "), got \"", Quote(b), "\""));
  }
  return absl::OkStatus();
}

bool IsFeatureNameChar(char c) {
  return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_';
}

// "rule:<rule>" or "reviewer:<name>", at most kMaxDecidedByBytes, no control
// characters.
absl::Status CheckDecidedBy(absl::string_view who, absl::string_view path) {
  if (who.empty()) return Required(path);
  if (who.size() > kMaxDecidedByBytes) {
    return Invalid(path, absl::StrCat("must be at most ", kMaxDecidedByBytes,
                                      " bytes, got ", who.size()));
  }
  if (!IsValidUtf8(who)) return Invalid(path, "must be valid UTF-8");
  for (char c : who) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Invalid(path, "must not contain control characters");
    }
  }
  absl::string_view name = who;
  if (!absl::ConsumePrefix(&name, kRulePrefix) &&
      !absl::ConsumePrefix(&name, kReviewerPrefix)) {
    return Invalid(path, absl::StrCat("must be \"rule:<rule>\" or "
                                      "\"reviewer:<name>\", got \"",
                                      Quote(who), "\""));
  }
  if (absl::StripAsciiWhitespace(name).empty()) {
    return Invalid(path, "names no rule or reviewer after the colon");
  }
  return absl::OkStatus();
}

}  // namespace

bool IsReviewerDecision(absl::string_view decided_by) {
  return absl::StartsWith(decided_by, kReviewerPrefix);
}

absl::Status ValidateLink(const v1::Link& l, absl::string_view path) {
  absl::Status s = CheckLinkPair(l.entity_a(), l.entity_b(), path);
  if (!s.ok()) return s;
  const std::string judgement_path = Field(path, "judgement");
  if (l.judgement() == v1::Link::JUDGEMENT_UNSPECIFIED) {
    return Required(judgement_path);
  }
  if (!v1::Link::Judgement_IsValid(l.judgement())) {
    return Invalid(judgement_path,
                   absl::StrCat("unknown judgement ", l.judgement()));
  }
  const std::string method_path = Field(path, "method");
  if (l.method() == v1::Link::METHOD_UNSPECIFIED) return Required(method_path);
  if (!v1::Link::Method_IsValid(l.method())) {
    return Invalid(method_path, absl::StrCat("unknown method ", l.method()));
  }
  s = CheckUnitInterval(l.score(), Field(path, "score"));
  if (!s.ok()) return s;
  const std::string features_path = Field(path, "features");
  if (l.features_size() > static_cast<int>(kMaxLinkFeatures)) {
    return Invalid(features_path,
                   absl::StrCat("must have at most ", kMaxLinkFeatures,
                                " entries, got ", l.features_size()));
  }
  for (const auto& [name, value] : l.features()) {
    const std::string entry = MapEntry(features_path, name);
    if (!AllOf(name, 1, kMaxFeatureNameBytes, IsFeatureNameChar)) {
      return Invalid(entry, absl::StrCat("name must match [a-z0-9_]{1,",
                                         kMaxFeatureNameBytes, "}"));
    }
    s = CheckUnitInterval(value, entry);
    if (!s.ok()) return s;
  }
  const std::string evidence_path = Field(path, "evidence");
  if (l.evidence_size() > static_cast<int>(kMaxEvidenceLines)) {
    return Invalid(evidence_path,
                   absl::StrCat("must have at most ", kMaxEvidenceLines,
                                " lines, got ", l.evidence_size()));
  }
  if (l.evidence().empty() && l.method() != v1::Link::MANUAL) {
    return Invalid(evidence_path,
                   absl::StrCat("at least one line is required for method ",
                                v1::Link::Method_Name(l.method())));
  }
  for (int i = 0; i < l.evidence_size(); ++i) {
    s = CheckText(l.evidence(i), /*required=*/true, kMaxEvidenceBytes,
                  Index(evidence_path, i));
    if (!s.ok()) return s;
  }
  const std::string decided_by_path = Field(path, "decided_by");
  s = CheckDecidedBy(l.decided_by(), decided_by_path);
  if (!s.ok()) return s;
  if (l.method() == v1::Link::MANUAL && !IsReviewerDecision(l.decided_by())) {
    return Invalid(decided_by_path,
                   "must be \"reviewer:<name>\" for method MANUAL");
  }
  const std::string decided_at_path = Field(path, "decided_at");
  if (!l.has_decided_at()) return Required(decided_at_path);
  s = CheckTimestamp(l.decided_at(), decided_at_path);
  if (!s.ok()) return s;
  s = CheckText(l.reason(), /*required=*/false, kMaxEvidenceBytes,
                Field(path, "reason"));
  if (!s.ok()) return s;
  return CheckText(l.source(), /*required=*/true, kMaxSourceBytes,
                   Field(path, "source"));
}

absl::Status ValidateLinkKey(const v1::LinkKey& k, absl::string_view path) {
  return CheckLinkPair(k.entity_a(), k.entity_b(), path);
}

absl::Status ValidateMutation(const v1::Mutation& m,
                              absl::string_view path_prefix) {
  absl::Status s;
  switch (m.kind_case()) {
    case v1::Mutation::kUpsertEntity:
      s = ValidateEntity(m.upsert_entity(),
                         Field(path_prefix, "upsert_entity"));
      break;
    case v1::Mutation::kUpsertEdge:
      s = ValidateEdge(m.upsert_edge(), Field(path_prefix, "upsert_edge"));
      break;
    case v1::Mutation::kUpsertSignal:
      s = ValidateSignal(m.upsert_signal(),
                         Field(path_prefix, "upsert_signal"));
      break;
    case v1::Mutation::kDeleteEntityId:
      s = ValidateId(m.delete_entity_id(), IdKind::kEntity,
                     Field(path_prefix, "delete_entity_id"));
      break;
    case v1::Mutation::kDeleteEdge:
      s = ValidateEdgeKey(m.delete_edge(), Field(path_prefix, "delete_edge"));
      break;
    case v1::Mutation::kDeleteSignalId:
      s = ValidateId(m.delete_signal_id(), IdKind::kSignal,
                     Field(path_prefix, "delete_signal_id"));
      break;
    case v1::Mutation::kUpsertLink:
      s = ValidateLink(m.upsert_link(), Field(path_prefix, "upsert_link"));
      break;
    case v1::Mutation::kDeleteLink:
      s = ValidateLinkKey(m.delete_link(), Field(path_prefix, "delete_link"));
      break;
    case v1::Mutation::KIND_NOT_SET:
      return Invalid(Field(path_prefix, "kind"),
                     "one of upsert_entity, upsert_edge, upsert_signal, "
                     "delete_entity_id, delete_edge, delete_signal_id, "
                     "upsert_link, delete_link is required");
  }
  if (!s.ok()) return s;
  const std::string key_path = Field(path_prefix, "idempotency_key");
  if (m.idempotency_key().size() > kMaxIdempotencyKeyBytes) {
    return Invalid(key_path,
                   absl::StrCat("must be at most ", kMaxIdempotencyKeyBytes,
                                " bytes, got ", m.idempotency_key().size()));
  }
  if (!IsValidUtf8(m.idempotency_key())) {
    return Invalid(key_path, "must be valid UTF-8");
  }
  const std::string release_path =
      Field(path_prefix, "release_idempotency_key");
  if (m.release_idempotency_key().size() > kMaxIdempotencyKeyBytes) {
    return Invalid(
        release_path,
        absl::StrCat("must be at most ", kMaxIdempotencyKeyBytes,
                     " bytes, got ", m.release_idempotency_key().size()));
  }
  if (!IsValidUtf8(m.release_idempotency_key())) {
    return Invalid(release_path, "must be valid UTF-8");
  }
  if (!v1::EdgeCopy_IsValid(m.edge_copy())) {
    return Invalid(Field(path_prefix, "edge_copy"),
                   absl::StrCat("unknown value ", m.edge_copy()));
  }
  if (m.edge_copy() != v1::EDGE_COPY_BOTH && !m.has_upsert_edge() &&
      !m.has_delete_edge() && !m.has_upsert_link() && !m.has_delete_link()) {
    return Invalid(Field(path_prefix, "edge_copy"),
                   "applies to upsert_edge, delete_edge, upsert_link and "
                   "delete_link only");
  }
  return absl::OkStatus();
}

}  // namespace georisk::domain
