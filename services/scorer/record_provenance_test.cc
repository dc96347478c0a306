// AddRecordProvenance: the explained entity's and the named edges'
// provenance, read from the mirror; nothing for records without an origin
// or that the mirror does not hold.
#include "services/scorer/record_provenance.h"

#include <memory>
#include <string>

#include "base/testing/temp_dir.h"
#include "domain/testing/builders.h"
#include "gtest/gtest.h"
#include "storage/graph_mirror.h"

namespace georisk::scorer {
namespace {

using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::DeleteEdge;
using ::georisk::domain::testing::Owns;
using ::georisk::domain::testing::Supplies;

constexpr char kFetch[] =
    "source:csl-ssi fetched 2026-12-07T14:00:00Z etag:\"v1\"";
constexpr char kImport[] = "import:suppliers.csv started 2026-12-06T14:00:00Z";

class RecordProvenanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto mirror =
        storage::GraphMirror::Open({base::testing::MakeTempDir("mirror")});
    ASSERT_TRUE(mirror.ok()) << mirror.status();
    mirror_ = std::move(*mirror);
    v1::Entity bank = Company("company/bank", "RU");
    bank.set_update_origin(kFetch);
    supplies_ = Supplies("company/chips", "company/bank", 0.4, "8542");
    supplies_.set_update_origin(kImport);
    owns_ = Owns("company/holdco", "company/bank", 0.6);  // No origin.
    ASSERT_TRUE(mirror_->BeginReplace().ok());
    ASSERT_TRUE(mirror_
                    ->AddChunk({bank, Company("company/chips", "TW"),
                                Company("company/holdco", "RU")},
                               {supplies_, owns_}, {})
                    .ok());
    ASSERT_TRUE(mirror_->FinishReplace(5).ok());
  }

  static v1::Contribution Upstream(const v1::Edge& e) {
    v1::Contribution c;
    v1::UpstreamContribution* up = c.mutable_upstream();
    up->set_entity_id(e.from_id());
    up->set_edge_kind(e.kind());
    *up->mutable_edge() = DeleteEdge(e).delete_edge();
    return c;
  }

  std::unique_ptr<storage::GraphMirror> mirror_;
  v1::Edge supplies_;
  v1::Edge owns_;
};

TEST_F(RecordProvenanceTest, NamesTheEntityAndEachEdgeThatHasAnOrigin) {
  v1::Explanation ex;
  ex.mutable_score()->set_entity_id("company/bank");
  ex.mutable_score()->set_entity_name("SME BANK");
  *ex.add_contributions() = Upstream(supplies_);
  *ex.add_contributions() = Upstream(owns_);
  ex.add_contributions()->mutable_direct()->set_signal_id("signal/x");
  v1::ExplanationPath* path = ex.add_paths();
  path->add_hops()->set_entity_id("company/bank");
  v1::PathHop* hop = path->add_hops();
  hop->set_entity_id("company/chips");
  *hop->mutable_edge() = DeleteEdge(supplies_).delete_edge();

  ASSERT_TRUE(AddRecordProvenance(*mirror_, &ex).ok());
  EXPECT_EQ(ex.entity_provenance().kind(),
            v1::SignalProvenance::SCHEDULED_SOURCE);
  EXPECT_EQ(ex.entity_provenance().origin(), kFetch);
  EXPECT_EQ(ex.entity_provenance().summary(),
            "SME BANK via csl-ssi, fetched 2026-12-07 14:00 UTC");
  const v1::SignalProvenance& edge =
      ex.contributions(0).upstream().edge_provenance();
  EXPECT_EQ(edge.kind(), v1::SignalProvenance::MANUAL_IMPORT);
  EXPECT_EQ(edge.name(), "suppliers.csv");
  EXPECT_EQ(edge.summary(),
            "supplier edge (8542) via georiskctl import of suppliers.csv, "
            "started 2026-12-06 14:00 UTC");
  // No origin: nothing, not an empty message.
  EXPECT_FALSE(ex.contributions(1).upstream().has_edge_provenance());
  EXPECT_FALSE(ex.paths(0).hops(0).has_edge_provenance());
  EXPECT_EQ(ex.paths(0).hops(1).edge_provenance().summary(), edge.summary());
}

TEST_F(RecordProvenanceTest, ARecordTheMirrorDoesNotHoldGetsNone) {
  v1::Explanation ex;
  ex.mutable_score()->set_entity_id("company/ghost");
  v1::Edge gone = Supplies("company/chips", "company/ghost", 0.4, "8542");
  *ex.add_contributions() = Upstream(gone);
  ASSERT_TRUE(AddRecordProvenance(*mirror_, &ex).ok());
  EXPECT_FALSE(ex.has_entity_provenance());
  EXPECT_FALSE(ex.contributions(0).upstream().has_edge_provenance());
}

TEST_F(RecordProvenanceTest, OnlyTheFirstUpstreamContributionsAreRead) {
  v1::Explanation ex;
  ex.mutable_score()->set_entity_id("company/bank");
  for (int i = 0; i <= kMaxUpstreamProvenance; ++i) {
    *ex.add_contributions() = Upstream(supplies_);
  }
  ASSERT_TRUE(AddRecordProvenance(*mirror_, &ex).ok());
  EXPECT_TRUE(ex.contributions(kMaxUpstreamProvenance - 1)
                  .upstream()
                  .has_edge_provenance());
  EXPECT_FALSE(ex.contributions(kMaxUpstreamProvenance)
                   .upstream()
                   .has_edge_provenance());
  // Without a name the entity is named by its id.
  EXPECT_EQ(ex.entity_provenance().summary(),
            "company/bank via csl-ssi, fetched 2026-12-07 14:00 UTC");
}

}  // namespace
}  // namespace georisk::scorer
