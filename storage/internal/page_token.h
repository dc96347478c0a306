// File: storage/internal/page_token.h
//
// Page tokens of ListEdges() and ListSignals(): web-safe base64 of
// version | tag | resume key | checksum, where the checksum is the low 32 bits
// of FNV-1a 64 of what precedes it. The tag says which column family the
// resume key belongs to (kOutEdgesTag, kInEdgesTag, kSignalsTag,
// kEntityLinksTag, kAllLinksTag); the key is
// the first key of the next page. docs/storage.md describes the layout.
//
// Example:
//
//   std::string token = EncodePageToken(kSignalsTag, next_key);
//   ...
//   char tag;
//   std::string resume;
//   RETURN_IF_ERROR(DecodePageToken(request_token, &tag, &resume));
//
// Thread safety: pure functions.
#ifndef GEORISK_STORAGE_INTERNAL_PAGE_TOKEN_H_
#define GEORISK_STORAGE_INTERNAL_PAGE_TOKEN_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace georisk::storage::internal {

inline constexpr char kPageTokenVersion = 1;
inline constexpr char kOutEdgesTag = 'o';
inline constexpr char kInEdgesTag = 'i';
inline constexpr char kSignalsTag = 's';
// ListLinks of one entity, and of every link.
inline constexpr char kEntityLinksTag = 'l';
inline constexpr char kAllLinksTag = 'L';

// The token resuming at `key` in the column family of `tag`.
std::string EncodePageToken(char tag, absl::string_view key);

// Decodes a token of EncodePageToken() into `tag` and `key`.
// Errors: INVALID_ARGUMENT "page_token: malformed" when the token is not
// base64, too short, fails its checksum or has another version.
absl::Status DecodePageToken(absl::string_view token, char* tag,
                             std::string* key);

}  // namespace georisk::storage::internal

#endif  // GEORISK_STORAGE_INTERNAL_PAGE_TOKEN_H_
