#include "resolve/matcher.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace georisk::resolve {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::shared_ptr<const NameNormalizer> Normalizer() {
  static std::shared_ptr<const NameNormalizer>* n = [] {
    absl::StatusOr<std::unique_ptr<NameNormalizer>> made =
        NameNormalizer::Create();
    EXPECT_TRUE(made.ok()) << made.status();
    return new std::shared_ptr<const NameNormalizer>(*std::move(made));
  }();
  return *n;
}

Party Company(std::string id, std::string name, std::string country,
              std::map<std::string, std::string> ids = {},
              std::vector<std::string> aliases = {}) {
  Party p;
  p.id = std::move(id);
  p.kind = PartyKind::kCompany;
  p.name = std::move(name);
  p.country = std::move(country);
  p.identifiers = std::move(ids);
  p.aliases = std::move(aliases);
  return p;
}

class MatcherTest : public ::testing::Test {
 protected:
  MatcherTest() : index_(MatcherOptions(), Normalizer()) {}

  void SetUp() override {
    // A few parties of a team's own graph, and filler so that IDF means
    // something.
    ASSERT_TRUE(index_
                    .Upsert(Company("company/smic",
                                    "Semiconductor Manufacturing International "
                                    "Corporation",
                                    "CN", {{"ticker", "0981.HK"}}))
                    .ok());
    ASSERT_TRUE(
        index_
            .Upsert(Company("company/huawei", "Huawei Technologies Co., Ltd.",
                            "CN", {{"lei", "506700GE1G29325QX363"}}))
            .ok());
    ASSERT_TRUE(
        index_
            .Upsert(Company("company/gazprom-neft", "Gazprom Neft PJSC", "RU"))
            .ok());
    ASSERT_TRUE(index_
                    .Upsert(Company("company/sdn-46001", "Example Trading LLC",
                                    "AE", {{"opensanctions", "ofac-46001"}}))
                    .ok());
    ASSERT_TRUE(
        index_.Upsert(Company("company/gulf-uk", "Gulf Shipping Ltd", "GB"))
            .ok());
    const char* filler[] = {"Acme Widgets",     "Northern Steel",
                            "Blue River Foods", "Pacific Logistics",
                            "Atlas Chemicals",  "Orion Electronics",
                            "Delta Textiles",   "Summit Holdings"};
    int i = 0;
    for (const char* name : filler) {
      ASSERT_TRUE(
          index_
              .Upsert(Company(absl::StrCat("company/filler-", i++), name, "US"))
              .ok());
    }
  }

  std::vector<Candidate> MatchOk(const Party& q) {
    absl::StatusOr<std::vector<Candidate>> c = index_.Match(q);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : std::vector<Candidate>();
  }

  PartyIndex index_;
};

TEST_F(MatcherTest, StrongIdentifierLinksAutomatically) {
  std::vector<Candidate> c =
      MatchOk(Company("company/csl-el-1", "HUAWEI TECHNOLOGIES CO LTD", "CN",
                      {{"lei", "506700GE1G29325QX363"}}));
  ASSERT_THAT(c, SizeIs(1));
  EXPECT_EQ(c[0].id, "company/huawei");
  EXPECT_EQ(c[0].decision, Decision::kAutoLink);
  EXPECT_TRUE(c[0].features.strong_identifier);
  EXPECT_EQ(c[0].features.identifier_scheme, "lei");
  EXPECT_EQ(c[0].features.country, Compatibility::kSame);
  EXPECT_EQ(c[0].features.legal_form, Compatibility::kSame);
  EXPECT_GE(c[0].score, 0.99);
  EXPECT_THAT(c[0].evidence, HasSubstr("identifier lei 506700GE1G29325QX363"));
}

TEST_F(MatcherTest, CslEntityNumberMeetsOpenSanctionsReferent) {
  std::vector<Candidate> c =
      MatchOk(Company("company/csl-sdn-46001", "EXAMPLE TRADING L.L.C.", "AE",
                      {{"csl_entity_number", "46001"}}));
  ASSERT_THAT(c, SizeIs(1));
  EXPECT_EQ(c[0].id, "company/sdn-46001");
  EXPECT_EQ(c[0].decision, Decision::kAutoLink);
}

TEST_F(MatcherTest, NameOnlyMatchWaitsForReview) {
  std::vector<Candidate> c =
      MatchOk(Company("", "Semiconductor Mfg Intl Corp", "CN"));
  ASSERT_FALSE(c.empty());
  EXPECT_EQ(c[0].id, "company/smic");
  EXPECT_EQ(c[0].decision, Decision::kReview);
  EXPECT_GT(c[0].score, 0.9);
  EXPECT_FALSE(c[0].features.strong_identifier);
}

TEST_F(MatcherTest, NameOnlyMatchLinksWhenConfigured) {
  MatcherOptions options;
  options.auto_link_name_matches = true;
  PartyIndex index(options, Normalizer());
  ASSERT_TRUE(
      index.Upsert(Company("company/a", "Gazprom Neft PJSC", "RU")).ok());
  absl::StatusOr<std::vector<Candidate>> c =
      index.Match(Company("", "ПАО «Газпром нефть»", "RU"));
  ASSERT_TRUE(c.ok());
  ASSERT_THAT(*c, SizeIs(1));
  EXPECT_EQ((*c)[0].decision, Decision::kAutoLink);
}

TEST_F(MatcherTest, Transliteration) {
  std::vector<Candidate> c = MatchOk(Company("", "ПАО «Газпром нефть»", "RU"));
  ASSERT_FALSE(c.empty());
  EXPECT_EQ(c[0].id, "company/gazprom-neft");
  EXPECT_EQ(c[0].features.legal_form, Compatibility::kSame);
  EXPECT_EQ(c[0].features.phonetic, 1.0);
}

TEST_F(MatcherTest, AcronymIsACandidate) {
  std::vector<Candidate> c = MatchOk(Company("", "SMIC", "CN"));
  ASSERT_FALSE(c.empty());
  EXPECT_EQ(c[0].id, "company/smic");
  EXPECT_TRUE(c[0].features.acronym);
  EXPECT_EQ(c[0].decision, Decision::kReview);
}

TEST_F(MatcherTest, WeakIdentifierNeverLinksAlone) {
  std::vector<Candidate> c =
      MatchOk(Company("", "Semiconductor Manufacturing International Corp",
                      "CN", {{"ticker", "981 HK"}}));
  ASSERT_FALSE(c.empty());
  EXPECT_EQ(c[0].id, "company/smic");
  EXPECT_EQ(c[0].decision, Decision::kReview);
  EXPECT_EQ(c[0].features.identifier_scheme, "ticker");
  EXPECT_FALSE(c[0].features.strong_identifier);
}

TEST_F(MatcherTest, DifferentCountryScoresLower) {
  std::vector<Candidate> same = MatchOk(Company("", "Gulf Shipping Ltd", "GB"));
  std::vector<Candidate> other =
      MatchOk(Company("", "Gulf Shipping Ltd", "AE"));
  ASSERT_FALSE(same.empty());
  ASSERT_FALSE(other.empty());
  EXPECT_EQ(other[0].features.country, Compatibility::kDifferent);
  EXPECT_GT(same[0].score, other[0].score + 0.1);
  EXPECT_EQ(other[0].decision, Decision::kReview);
}

TEST_F(MatcherTest, ConflictingLeiPreventsLink) {
  // Same name, a different valid LEI: two parties.
  std::vector<Candidate> c =
      MatchOk(Company("", "Huawei Technologies Co., Ltd.", "CN",
                      {{"lei", "HWUPKR0MPOU8FGXBT394"}}));
  for (const Candidate& x : c) {
    EXPECT_NE(x.decision, Decision::kAutoLink);
  }
  EXPECT_TRUE(c.empty() || c[0].features.conflicting_scheme == "lei");
}

TEST_F(MatcherTest, KindMismatchPreventsLink) {
  Party facility = Company("", "Huawei Technologies Co., Ltd.", "CN",
                           {{"lei", "506700GE1G29325QX363"}});
  facility.kind = PartyKind::kPerson;
  std::vector<Candidate> c = MatchOk(facility);
  for (const Candidate& x : c) EXPECT_NE(x.decision, Decision::kAutoLink);
}

TEST_F(MatcherTest, NoCandidateForAnUnrelatedName) {
  EXPECT_THAT(MatchOk(Company("", "Zzyzx Quantum Bakery", "FR")), IsEmpty());
}

TEST_F(MatcherTest, AQueryNeverMatchesItself) {
  std::vector<Candidate> c =
      MatchOk(Company("company/huawei", "Huawei Technologies Co., Ltd.", "CN"));
  for (const Candidate& x : c) EXPECT_NE(x.id, "company/huawei");
}

TEST_F(MatcherTest, UpsertReplacesAndRemoveForgets) {
  const size_t before = index_.size();
  ASSERT_TRUE(
      index_.Upsert(Company("company/gulf-uk", "Gulf Shipping Limited", "GB"))
          .ok());
  EXPECT_EQ(index_.size(), before);
  ASSERT_TRUE(index_.Remove("company/gulf-uk").ok());
  EXPECT_EQ(index_.size(), before - 1);
  EXPECT_THAT(MatchOk(Company("", "Gulf Shipping Ltd", "GB")), IsEmpty());
  EXPECT_EQ(index_.Remove("company/gulf-uk").code(),
            absl::StatusCode::kNotFound);
}

TEST_F(MatcherTest, Errors) {
  EXPECT_EQ(index_.Upsert(Company("", "X", "US")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(index_.Upsert(Company("company/x", "...", "US")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(index_.Match(Company("", "", "US")).status().code(),
            absl::StatusCode::kInvalidArgument);
  // An invalid identifier alone is no query.
  EXPECT_EQ(
      index_.Match(Company("", "", "US", {{"lei", "bad"}})).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST_F(MatcherTest, BruteForceAgreesWithTheIndex) {
  const Party queries[] = {
      Company("", "Semiconductor Mfg Intl Corp", "CN"),
      Company("", "ПАО «Газпром нефть»", "RU"),
      Company("", "Gulf Shipping", ""),
      Company("", "x", "", {{"lei", "506700GE1G29325QX363"}}),
  };
  for (const Party& q : queries) {
    absl::StatusOr<std::vector<Candidate>> a = index_.Match(q);
    absl::StatusOr<std::vector<Candidate>> b = index_.BruteForceMatch(q);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(a->size(), b->size()) << q.name;
    for (size_t i = 0; i < a->size(); ++i) {
      EXPECT_EQ((*a)[i].id, (*b)[i].id);
      EXPECT_EQ((*a)[i].score, (*b)[i].score);
    }
  }
}

TEST_F(MatcherTest, ConcurrentMatchAndUpsert) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 30; ++i) {
        absl::StatusOr<std::vector<Candidate>> c =
            index_.Match(Company("", "Huawei Technologies", "CN"));
        if (!c.ok() || c->empty() || (*c)[0].id != "company/huawei") {
          ++failures;
        }
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 30; ++i) {
      if (!index_
               .Upsert(Company(absl::StrCat("company/new-", i),
                               absl::StrCat("New Party ", i), "DE"))
               .ok()) {
        ++failures;
      }
    }
  });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace georisk::resolve
