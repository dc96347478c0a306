#include "resolve/candidate_link.h"

#include "gtest/gtest.h"

namespace georisk::resolve {
namespace {

TEST(CandidateLinkTest, IdentifierMatchBecomesAnIdentifierLink) {
  Candidate c;
  c.id = "company/smic";
  c.score = 0.99;
  c.decision = Decision::kAutoLink;
  c.features.identifier_scheme = "lei";
  c.features.identifier_value = "549300ABCDEFGHIJKL12";
  c.features.strong_identifier = true;
  c.features.name_similarity = 0.9;
  c.features.phonetic = 0.75;
  c.features.legal_form = Compatibility::kDifferent;
  c.features.country = Compatibility::kSame;
  c.features.kind = Compatibility::kUnknown;
  c.evidence = "identifier lei 549300ABCDEFGHIJKL12 equal (strong)";
  v1::Link link;
  FillLinkEvidence(c, &link);
  EXPECT_EQ(link.method(), v1::Link::IDENTIFIER);
  EXPECT_DOUBLE_EQ(link.score(), 0.99);
  EXPECT_DOUBLE_EQ(link.features().at("identifier"), 1.0);
  EXPECT_DOUBLE_EQ(link.features().at("identifier_conflict"), 0.0);
  EXPECT_DOUBLE_EQ(link.features().at("name_similarity"), 0.9);
  EXPECT_DOUBLE_EQ(link.features().at("phonetic"), 0.75);
  EXPECT_DOUBLE_EQ(link.features().at("legal_form"), 0.0);
  EXPECT_DOUBLE_EQ(link.features().at("country"), 1.0);
  EXPECT_DOUBLE_EQ(link.features().at("kind"), 0.5);
  ASSERT_EQ(link.evidence_size(), 1);
  EXPECT_EQ(link.evidence(0), c.evidence);
}

TEST(CandidateLinkTest, WeakOrNoIdentifierIsANameMatch) {
  Candidate c;
  c.features.identifier_scheme = "ticker";
  c.features.conflicting_scheme = "lei";
  c.features.acronym = true;
  EXPECT_EQ(MethodOf(c), v1::Link::NAME);
  EXPECT_DOUBLE_EQ(FeaturesOf(c).at("identifier"), 0.5);
  EXPECT_DOUBLE_EQ(FeaturesOf(c).at("identifier_conflict"), 1.0);
  EXPECT_DOUBLE_EQ(FeaturesOf(c).at("acronym"), 1.0);
  c.features.identifier_scheme.clear();
  EXPECT_DOUBLE_EQ(FeaturesOf(c).at("identifier"), 0.0);
}

}  // namespace
}  // namespace georisk::resolve
