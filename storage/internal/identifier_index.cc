#include "storage/internal/identifier_index.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "resolve/identifiers.h"
#include "storage/internal/keys.h"

namespace georisk::storage::internal {

std::vector<std::string> IdentifierKeysOf(const v1::Entity& entity) {
  std::vector<std::string> keys;
  for (const auto& [scheme, value] : entity.identifiers()) {
    if (resolve::FindScheme(scheme) == nullptr) continue;
    absl::StatusOr<resolve::Identifier> id =
        resolve::NormalizeIdentifier(scheme, value, entity.country());
    if (!id.ok() || absl::StrContains(id->value, kIdTerminator)) continue;
    for (std::string& key : resolve::IndexKeys(*id)) {
      key.push_back(kIdTerminator);
      key.append(entity.id());
      keys.push_back(std::move(key));
    }
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

absl::StatusOr<IdentifierLookup> ParseIdentifierLookup(
    absl::string_view scheme_in, absl::string_view value,
    absl::string_view country_in, bool include_equivalent) {
  const std::string scheme =
      absl::AsciiStrToLower(absl::StripAsciiWhitespace(scheme_in));
  if (scheme.empty()) return absl::InvalidArgumentError("scheme: is required");
  if (resolve::FindScheme(scheme) == nullptr) {
    std::vector<std::string> known;
    for (const resolve::SchemeInfo& s : resolve::KnownSchemes()) {
      known.push_back(s.name);
    }
    return absl::InvalidArgumentError(
        absl::StrCat("scheme: unknown identifier scheme \"",
                     absl::CHexEscape(scheme.substr(0, 64)), "\"; one of ",
                     absl::StrJoin(known, ", ")));
  }
  if (absl::StripAsciiWhitespace(value).empty()) {
    return absl::InvalidArgumentError("value: is required");
  }
  if (absl::StrContains(value, kIdTerminator)) {
    return absl::InvalidArgumentError("value: must not contain NUL");
  }
  const std::string country =
      absl::AsciiStrToUpper(absl::StripAsciiWhitespace(country_in));
  if (!country.empty() &&
      (country.size() != 2 || !absl::ascii_isalpha(country[0]) ||
       !absl::ascii_isalpha(country[1]))) {
    return absl::InvalidArgumentError(
        absl::StrCat("country: must be an ISO 3166-1 alpha-2 code, got \"",
                     absl::CHexEscape(country_in.substr(0, 64)), "\""));
  }
  absl::StatusOr<resolve::Identifier> id =
      resolve::NormalizeIdentifier(scheme, value, country);
  if (!id.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("value: ", id.status().message()));
  }
  std::vector<std::string> keys = resolve::IndexKeys(*id);
  IdentifierLookup lookup;
  lookup.scheme = id->scheme;
  lookup.value = id->value;
  lookup.index_key = include_equivalent ? keys.back() : keys.front();
  return lookup;
}

std::string IdentifierPrefix(absl::string_view index_key) {
  std::string prefix(index_key);
  prefix.push_back(kIdTerminator);
  return prefix;
}

absl::StatusOr<std::string> EntityIdOfIdentifierKey(absl::string_view key,
                                                    absl::string_view prefix) {
  if (!absl::StartsWith(key, prefix) || key.size() == prefix.size()) {
    return absl::InvalidArgumentError(
        "identifier index key does not name an entity under its prefix");
  }
  return std::string(key.substr(prefix.size()));
}

}  // namespace georisk::storage::internal
