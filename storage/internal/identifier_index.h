// File: storage/internal/identifier_index.h
//
// The keys of the `identifiers` column family: an index from an entity's
// external identifiers (graph.proto's Entity.identifiers) to the entity,
// with one normalisation rule for every identifier, resolve/identifiers.h's.
// docs/storage.md ("identifiers") describes the same layout byte by byte;
// keep the two in step.
//
//   identifiers : index key | 0x00 | entity id   ->   empty value
//
// where the index key is one of resolve::IndexKeys() of the normalised
// identifier: "lei:549300617UK8WPPT6W46", "csl_entity_number:18300", and the
// cross-scheme key "ofac:18300" that a CSL entity number and an
// OpenSanctions "ofac-18300" share. Only schemes of resolve's table are
// indexed (a lookup names one of them); a value that fails its scheme's
// check (an LEI with a bad check digit) or holds a 0x00 byte is not indexed.
//
// Example:
//
//   std::vector<std::string> keys = IdentifierKeysOf(entity);  // sorted
//   // {"lei:5493...\0company/smic", "ticker:HK:981\0company/smic"}
//   std::string prefix = IdentifierPrefix("lei:5493...");      // + 0x00
//
// Thread-safe: pure functions.
#ifndef GEORISK_STORAGE_INTERNAL_IDENTIFIER_INDEX_H_
#define GEORISK_STORAGE_INTERNAL_IDENTIFIER_INDEX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "georisk/v1/graph.pb.h"

namespace georisk::storage::internal {

// The meta key that says the index is complete, and the version of the
// rules it was built with (8-byte big-endian). Open rebuilds the index when
// the key is absent or holds another version. Bump the version whenever
// resolve::NormalizeIdentifier() or resolve::IndexKeys() changes what they
// return for a stored value, or IdentifierKeysOf() changes what it indexes.
inline constexpr absl::string_view kMetaIdentifierIndex = "identifier_index";
inline constexpr uint64_t kIdentifierIndexVersion = 1;

// The index keys of `entity`'s identifiers, each followed by 0x00 and the
// entity id: sorted, without duplicates.
std::vector<std::string> IdentifierKeysOf(const v1::Entity& entity);

// index key | 0x00: the prefix of every entry of one identifier.
std::string IdentifierPrefix(absl::string_view index_key);

// A lookup's identifier, checked and normalised.
struct IdentifierLookup {
  std::string scheme;     // "lei"
  std::string value;      // "549300617UK8WPPT6W46"
  std::string index_key;  // "lei:549300617UK8WPPT6W46" (or "ofac:N")
};

// Checks and normalises a lookup of (scheme, value): `country` is the
// jurisdiction of a registration or tax number written without one;
// `include_equivalent` looks up the cross-scheme key when the identifier has
// one (resolve::IndexKeys' last key). Errors: INVALID_ARGUMENT naming the
// field: "scheme: is required", "scheme: unknown identifier scheme ...",
// "value: is required", "value: <resolve's reason>", "country: ...".
absl::StatusOr<IdentifierLookup> ParseIdentifierLookup(
    absl::string_view scheme, absl::string_view value,
    absl::string_view country, bool include_equivalent);

// The entity id of an entry whose key starts with `prefix`.
// Errors: INVALID_ARGUMENT when it does not or names no id.
absl::StatusOr<std::string> EntityIdOfIdentifierKey(absl::string_view key,
                                                    absl::string_view prefix);

}  // namespace georisk::storage::internal

#endif  // GEORISK_STORAGE_INTERNAL_IDENTIFIER_INDEX_H_
