#include "storage/internal/page_token.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace georisk::storage::internal {
namespace {

TEST(PageTokenTest, RoundTripsTagAndKey) {
  for (char tag : {kOutEdgesTag, kInEdgesTag, kSignalsTag}) {
    for (const std::string& key :
         {std::string(), std::string("\x01\x02company/a\0\x03", 13),
          std::string(300, '\xff')}) {
      const std::string token = EncodePageToken(tag, key);
      char decoded_tag = 0;
      std::string decoded_key;
      ASSERT_TRUE(DecodePageToken(token, &decoded_tag, &decoded_key).ok())
          << tag;
      EXPECT_EQ(decoded_tag, tag);
      EXPECT_EQ(decoded_key, key);
    }
  }
}

TEST(PageTokenTest, IsWebSafe) {
  const std::string token = EncodePageToken(kSignalsTag, "\xfb\xff\xfe");
  EXPECT_EQ(token.find_first_of("+/="), std::string::npos) << token;
}

TEST(PageTokenTest, RefusesMalformedTokens) {
  const std::string good = EncodePageToken(kOutEdgesTag, "key");
  std::string payload;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(good, &payload));
  std::string flipped_key = payload;
  flipped_key[2] ^= 1;
  std::string other_version = payload;
  other_version[0] = kPageTokenVersion + 1;
  struct Case {
    const char* name;
    std::string token;
  };
  for (const Case& c : {
           Case{"not base64", "!!!"},
           Case{"too short", absl::WebSafeBase64Escape(std::string(5, 'a'))},
           Case{"key changed", absl::WebSafeBase64Escape(flipped_key)},
           Case{"other version", absl::WebSafeBase64Escape(other_version)},
           Case{"truncated", good.substr(0, good.size() - 2)},
       }) {
    char tag = 0;
    std::string key;
    absl::Status s = DecodePageToken(c.token, &tag, &key);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_EQ(s.message(), "page_token: malformed") << c.name;
  }
}

}  // namespace
}  // namespace georisk::storage::internal
