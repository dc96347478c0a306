#include "storage/internal/identifier_index.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace georisk::storage::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string Key(absl::string_view index_key, absl::string_view id) {
  return IdentifierPrefix(index_key) + std::string(id);
}

TEST(IdentifierKeysOfTest, NormalisesEachKnownSchemeAndSorts) {
  v1::Entity e;
  e.set_id("company/apple");
  e.set_country("US");
  auto& ids = *e.mutable_identifiers();
  ids["lei"] = " hwupkr0mpou8fgxbt394 ";
  ids["ticker"] = "AAPL";
  ids["registration"] = "c0806592";  // jurisdiction from the country
  EXPECT_THAT(IdentifierKeysOf(e),
              ElementsAre(Key("lei:HWUPKR0MPOU8FGXBT394", "company/apple"),
                          Key("registration:US:C0806592", "company/apple"),
                          Key("ticker:AAPL", "company/apple")));
}

TEST(IdentifierKeysOfTest, CslEntityNumberAndOfacReferentShareTheOfacKey) {
  v1::Entity csl;
  csl.set_id("company/csl-sdn-18300");
  (*csl.mutable_identifiers())["csl_entity_number"] = "018300";
  EXPECT_THAT(IdentifierKeysOf(csl),
              ElementsAre(Key("csl_entity_number:18300", csl.id()),
                          Key("ofac:18300", csl.id())));
  v1::Entity ftm;
  ftm.set_id("company/ftm-ofac-18300");
  (*ftm.mutable_identifiers())["opensanctions"] = "ofac-18300";
  EXPECT_THAT(IdentifierKeysOf(ftm),
              ElementsAre(Key("ofac:18300", ftm.id()),
                          Key("opensanctions:ofac-18300", ftm.id())));
}

TEST(IdentifierKeysOfTest, SkipsUnknownSchemesAndValuesThatFailTheirCheck) {
  v1::Entity e;
  e.set_id("company/x");
  auto& ids = *e.mutable_identifiers();
  ids["lei"] = "506700GE1G29325QX364";  // bad check digits
  ids["house_number"] = "12";           // not in resolve's table
  ids["registration"] = "12345";        // no jurisdiction: no country
  ids["csl_id"] = std::string("a\0b", 3);
  EXPECT_THAT(IdentifierKeysOf(e), IsEmpty());
}

TEST(IdentifierKeyTest, PrefixEndsTheIndexKeyAndTheIdFollows) {
  const std::string prefix = IdentifierPrefix("lei:506700GE1G29325QX363");
  EXPECT_EQ(prefix, std::string("lei:506700GE1G29325QX363\0", 25));
  absl::StatusOr<std::string> id =
      EntityIdOfIdentifierKey(prefix + "company/gleif", prefix);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, "company/gleif");
  EXPECT_FALSE(EntityIdOfIdentifierKey(prefix, prefix).ok());
  EXPECT_FALSE(EntityIdOfIdentifierKey("isin:US0378331005\0x", prefix).ok());
}

TEST(ParseIdentifierLookupTest, NormalisesAsTheIndexDoes) {
  absl::StatusOr<IdentifierLookup> lei = ParseIdentifierLookup(
      " LEI ", "5067 00GE 1G29 325Q X363", "", /*include_equivalent=*/false);
  ASSERT_TRUE(lei.ok()) << lei.status();
  EXPECT_EQ(lei->scheme, "lei");
  EXPECT_EQ(lei->value, "506700GE1G29325QX363");
  EXPECT_EQ(lei->index_key, "lei:506700GE1G29325QX363");
  absl::StatusOr<IdentifierLookup> reg =
      ParseIdentifierLookup("registration", "c0806592", "us", false);
  ASSERT_TRUE(reg.ok()) << reg.status();
  EXPECT_EQ(reg->index_key, "registration:US:C0806592");
}

TEST(ParseIdentifierLookupTest, EquivalentLooksUpTheCrossSchemeKey) {
  EXPECT_EQ(
      ParseIdentifierLookup("csl_entity_number", "18300", "", true)->index_key,
      "ofac:18300");
  EXPECT_EQ(
      ParseIdentifierLookup("opensanctions", "ofac-18300", "", true)->index_key,
      "ofac:18300");
  // No equivalent: the scheme's own key.
  EXPECT_EQ(
      ParseIdentifierLookup("opensanctions", "NK-abc", "", true)->index_key,
      "opensanctions:NK-abc");
  EXPECT_EQ(
      ParseIdentifierLookup("csl_entity_number", "18300", "", false)->index_key,
      "csl_entity_number:18300");
}

TEST(ParseIdentifierLookupTest, NamesTheFieldAtFault) {
  struct Case {
    const char* scheme;
    std::string value;
    const char* country;
    const char* message;
  };
  const Case cases[] = {
      {"", "x", "", "scheme: is required"},
      {"ofac", "1", "",
       "scheme: unknown identifier scheme \"ofac\"; one of lei"},
      {"lei", " ", "", "value: is required"},
      {"lei", "506700GE1G29325QX364", "",
       "value: lei \"506700GE1G29325QX364\""},
      {"registration", "12345", "", "value: registration \"12345\": needs its"},
      {"registration", "12345", "USA", "country: must be an ISO 3166-1"},
      {"csl_id", std::string("a\0b", 3), "", "value: must not contain NUL"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<IdentifierLookup> got =
        ParseIdentifierLookup(c.scheme, c.value, c.country, false);
    ASSERT_FALSE(got.ok()) << c.message;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StartsWith(got.status().message(), c.message))
        << got.status();
  }
}

}  // namespace
}  // namespace georisk::storage::internal
