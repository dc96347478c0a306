#include "storage/internal/page_token.h"

#include <cstdint>
#include <string>

#include "absl/strings/escaping.h"
#include "storage/internal/keys.h"

namespace georisk::storage::internal {

std::string EncodePageToken(char tag, absl::string_view key) {
  std::string payload;
  payload.reserve(key.size() + 6);
  payload.push_back(kPageTokenVersion);
  payload.push_back(tag);
  payload.append(key.data(), key.size());
  const uint32_t check = static_cast<uint32_t>(Fnv1a64(payload));
  for (int shift = 24; shift >= 0; shift -= 8) {
    payload.push_back(static_cast<char>((check >> shift) & 0xff));
  }
  return absl::WebSafeBase64Escape(payload);
}

absl::Status DecodePageToken(absl::string_view token, char* tag,
                             std::string* key) {
  std::string payload;
  if (!absl::WebSafeBase64Unescape(token, &payload) || payload.size() < 6) {
    return absl::InvalidArgumentError("page_token: malformed");
  }
  const absl::string_view body(payload.data(), payload.size() - 4);
  const uint32_t check = static_cast<uint32_t>(Fnv1a64(body));
  uint32_t stored = 0;
  for (size_t i = payload.size() - 4; i < payload.size(); ++i) {
    stored = stored << 8 | static_cast<uint8_t>(payload[i]);
  }
  if (check != stored || body[0] != kPageTokenVersion) {
    return absl::InvalidArgumentError("page_token: malformed");
  }
  *tag = body[1];
  key->assign(body.data() + 2, body.size() - 2);
  return absl::OkStatus();
}

}  // namespace georisk::storage::internal
