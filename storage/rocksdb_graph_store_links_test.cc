// Links (graph.proto's Link) in RocksDbGraphStore: both copies, validation
// against the graph, who may overwrite whom, entity deletes, the change log,
// snapshots, counts and listings.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/testing/temp_dir.h"
#include "domain/testing/builders.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/rocksdb_graph_store.h"
#include "storage/testing/graph_store_fixture.h"

namespace georisk::storage {
namespace {

using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::DeleteEntity;
using ::georisk::domain::testing::DeleteLink;
using ::georisk::domain::testing::IdentifierLink;
using ::georisk::domain::testing::Upsert;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr auto kApplied = MutationOutcome::kApplied;
constexpr auto kUnchanged = MutationOutcome::kUnchanged;

class LinksTest : public testing::GraphStoreFixture {
 protected:
  void SetUp() override {
    UseFreshDatabase("links_");
    options_.clock = [] { return absl::FromUnixSeconds(1750000000); };
    Open();
    MustApply({Upsert(Company("company/smic", "CN")),
               Upsert(Company("company/csl-el-1", "CN")),
               Upsert(Company("company/ftm-2", "CN")),
               Upsert(Company("company/other", "CN"))});
  }

  std::vector<v1::Link> Links(
      const std::string& id,
      v1::Link::Judgement judgement = v1::Link::JUDGEMENT_UNSPECIFIED) {
    LinkQuery query;
    query.entity_id = id;
    query.judgement = judgement;
    absl::StatusOr<LinkPage> page = store_->ListLinks(query);
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? page->links : std::vector<v1::Link>();
  }
};

std::vector<std::string> Pairs(const std::vector<v1::Link>& links) {
  std::vector<std::string> out;
  for (const v1::Link& l : links) {
    out.push_back(absl::StrCat(l.entity_a(), "=", l.entity_b(), ":",
                               v1::Link::Judgement_Name(l.judgement())));
  }
  return out;
}

TEST_F(LinksTest, StoredOncePerPairInOrderAndListedFromBothEnds) {
  // Sent as (smic, csl-el-1): stored and logged as (csl-el-1, smic).
  ApplyResult r = MustApply({Upsert(
      IdentifierLink("company/smic", "company/csl-el-1", v1::Link::POSITIVE))});
  EXPECT_THAT(r.outcomes, ElementsAre(kApplied));
  EXPECT_THAT(Pairs(Links("company/smic")),
              ElementsAre("company/csl-el-1=company/smic:POSITIVE"));
  EXPECT_THAT(Pairs(Links("company/csl-el-1")),
              ElementsAre("company/csl-el-1=company/smic:POSITIVE"));
  absl::StatusOr<v1::Link> got =
      store_->GetLink("company/smic", "company/csl-el-1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->update_sequence(), r.sequence);
  EXPECT_EQ(got->evidence(0),
            "identifier lei 549300XXXXXXXXXXXX75 equal (strong)");
  EXPECT_EQ(store_->GetLink("company/smic", "company/ftm-2").status().code(),
            absl::StatusCode::kNotFound);

  absl::StatusOr<std::vector<v1::Change>> changes =
      store_->ReadChanges(r.sequence, 0, 0);
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_EQ(changes->size(), 1u);
  const v1::Mutation& logged = (*changes)[0].mutations(0);
  ASSERT_TRUE(logged.has_upsert_link());
  EXPECT_EQ(logged.upsert_link().entity_a(), "company/csl-el-1");
  EXPECT_EQ(logged.upsert_link().entity_b(), "company/smic");
  EXPECT_EQ(logged.upsert_link().update_sequence(), r.sequence);

  // The same link again, in the other order: unchanged.
  r = MustApply({Upsert(
      IdentifierLink("company/csl-el-1", "company/smic", v1::Link::POSITIVE))});
  EXPECT_THAT(r.outcomes, ElementsAre(kUnchanged));

  absl::StatusOr<StoreStats> stats = store_->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->link_count, 1);
  Open();  // The count and the link survive a restart.
  stats = store_->GetStats();
  EXPECT_EQ(stats->link_count, 1);
  EXPECT_EQ(Links("company/smic").size(), 1u);
}

TEST_F(LinksTest, EndpointsMustExistAtThatPointOfTheBatch) {
  absl::StatusOr<ApplyResult> r =
      store_->Apply({Upsert(IdentifierLink("company/smic", "company/nobody",
                                           v1::Link::UNSURE))},
                    "test");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "mutations[0].upsert_link.entity_b: entity company/nobody does not "
            "exist");
  // Upserted earlier in the batch: fine. Deleted earlier: not.
  MustApply({Upsert(Company("company/nobody", "CN")),
             Upsert(IdentifierLink("company/smic", "company/nobody",
                                   v1::Link::UNSURE))});
  r = store_->Apply({DeleteEntity("company/other"),
                     Upsert(IdentifierLink("company/other", "company/smic",
                                           v1::Link::UNSURE))},
                    "test");
  EXPECT_THAT(std::string(r.status().message()),
              StartsWith("mutations[1].upsert_link.entity_a: entity "
                         "company/other does not exist"));
  // Record rules come with the same paths; in reject mode the rest commits.
  v1::Mutation self =
      Upsert(IdentifierLink("company/smic", "company/smic", v1::Link::UNSURE));
  r = store_->Apply({Upsert(IdentifierLink("company/smic", "company/ftm-2",
                                           v1::Link::UNSURE)),
                     self},
                    "test", InvalidMutations::kReject);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rejections.size(), 1u);
  EXPECT_EQ(r->rejections[0].index, 1);
  EXPECT_EQ(r->rejections[0].field, "upsert_link.entity_b");
  EXPECT_EQ(r->rejections[0].reason, "must differ from entity_a");
  EXPECT_EQ(Links("company/ftm-2").size(), 1u);
}

TEST_F(LinksTest, ReImportNeverOverturnsARefusalOrAReviewersDecision) {
  MustApply({Upsert(IdentifierLink("company/smic", "company/ftm-2",
                                   v1::Link::UNSURE, "rule:name"))});
  // A reviewer refuses.
  v1::Mutation refusal = Upsert(IdentifierLink(
      "company/smic", "company/ftm-2", v1::Link::NEGATIVE, "reviewer:ana"));
  refusal.mutable_upsert_link()->set_reason("a different SMIC");
  EXPECT_THAT(MustApply({refusal}).outcomes, ElementsAre(kApplied));
  // Re-importing either side, and the automatic rule linking them again:
  // the refusal stands.
  ApplyResult r =
      MustApply({Upsert(Company("company/smic", "CN")),
                 Upsert(Company("company/ftm-2", "CN")),
                 Upsert(IdentifierLink("company/ftm-2", "company/smic",
                                       v1::Link::POSITIVE)),
                 Upsert(IdentifierLink("company/smic", "company/ftm-2",
                                       v1::Link::UNSURE, "rule:name"))});
  EXPECT_THAT(r.outcomes,
              ElementsAre(kUnchanged, kUnchanged, kUnchanged, kUnchanged));
  EXPECT_THAT(Pairs(Links("company/smic")),
              ElementsAre("company/ftm-2=company/smic:NEGATIVE"));
  // An automatic NEGATIVE is also kept against automatic positives.
  MustApply({Upsert(
      IdentifierLink("company/smic", "company/other", v1::Link::NEGATIVE))});
  EXPECT_THAT(MustApply({Upsert(IdentifierLink("company/smic", "company/other",
                                               v1::Link::POSITIVE))})
                  .outcomes,
              ElementsAre(kUnchanged));
  // A reviewer's acceptance is not undone by the rule's UNSURE either.
  MustApply({Upsert(IdentifierLink("company/smic", "company/csl-el-1",
                                   v1::Link::POSITIVE, "reviewer:ana"))});
  EXPECT_THAT(
      MustApply({Upsert(IdentifierLink("company/smic", "company/csl-el-1",
                                       v1::Link::UNSURE, "rule:name"))})
          .outcomes,
      ElementsAre(kUnchanged));
  // Only a reviewer turns a refusal around.
  EXPECT_THAT(
      MustApply({Upsert(IdentifierLink("company/smic", "company/ftm-2",
                                       v1::Link::POSITIVE, "reviewer:bo"))})
          .outcomes,
      ElementsAre(kApplied));
  EXPECT_THAT(Pairs(Links("company/ftm-2")),
              ElementsAre("company/ftm-2=company/smic:POSITIVE"));
}

TEST_F(LinksTest, EntityDeleteCascadesButKeepsRefusals) {
  MustApply({Upsert(IdentifierLink("company/smic", "company/csl-el-1",
                                   v1::Link::POSITIVE)),
             Upsert(IdentifierLink("company/smic", "company/ftm-2",
                                   v1::Link::NEGATIVE, "reviewer:ana")),
             Upsert(IdentifierLink("company/smic", "company/other",
                                   v1::Link::UNSURE))});
  ApplyResult r = MustApply({DeleteEntity("company/smic")});
  EXPECT_EQ(r.cascaded_link_deletes, 2);
  EXPECT_THAT(Pairs(Links("company/smic")),
              ElementsAre("company/ftm-2=company/smic:NEGATIVE"));
  EXPECT_TRUE(Links("company/csl-el-1").empty());
  EXPECT_TRUE(Links("company/other").empty());
  absl::StatusOr<StoreStats> stats = store_->GetStats();
  EXPECT_EQ(stats->link_count, 1);

  // The change log lists the cascaded deletes, in pair order, after the
  // entity delete; the kept refusal is not among them.
  absl::StatusOr<std::vector<v1::Change>> changes =
      store_->ReadChanges(r.sequence, 0, 0);
  ASSERT_TRUE(changes.ok());
  const v1::Change& c = (*changes)[0];
  ASSERT_EQ(c.mutations_size(), 3);
  EXPECT_EQ(c.mutations(0).delete_entity_id(), "company/smic");
  EXPECT_EQ(c.mutations(1).delete_link().entity_a(), "company/csl-el-1");
  EXPECT_EQ(c.mutations(1).delete_link().entity_b(), "company/smic");
  EXPECT_EQ(c.mutations(2).delete_link().entity_a(), "company/other");

  // Imported again, smic is still refused as ftm-2.
  MustApply({Upsert(Company("company/smic", "CN"))});
  EXPECT_THAT(MustApply({Upsert(IdentifierLink("company/smic", "company/ftm-2",
                                               v1::Link::POSITIVE))})
                  .outcomes,
              ElementsAre(kUnchanged));

  // Links upserted earlier in the deleting batch are cascaded too.
  r = MustApply({Upsert(IdentifierLink("company/other", "company/csl-el-1",
                                       v1::Link::UNSURE)),
                 DeleteEntity("company/other")});
  EXPECT_EQ(r.cascaded_link_deletes, 1);
  EXPECT_TRUE(Links("company/csl-el-1").empty());
}

TEST_F(LinksTest, DeleteLinkRemovesBothCopies) {
  MustApply({Upsert(
      IdentifierLink("company/smic", "company/ftm-2", v1::Link::NEGATIVE))});
  ApplyResult r = MustApply({DeleteLink("company/smic", "company/ftm-2")});
  EXPECT_THAT(r.outcomes, ElementsAre(kApplied));
  EXPECT_TRUE(Links("company/smic").empty());
  EXPECT_TRUE(Links("company/ftm-2").empty());
  EXPECT_THAT(MustApply({DeleteLink("company/ftm-2", "company/smic")}).outcomes,
              ElementsAre(kUnchanged));
  absl::StatusOr<std::vector<v1::Change>> changes =
      store_->ReadChanges(r.sequence, 1, 0);
  ASSERT_TRUE(changes.ok());
  EXPECT_EQ((*changes)[0].mutations(0).delete_link().entity_a(),
            "company/ftm-2");
  EXPECT_EQ(store_->GetStats()->link_count, 0);
}

TEST_F(LinksTest, ListLinksFiltersAndPages) {
  MustApply({Upsert(Company("company/a1", "CN")),
             Upsert(Company("company/a2", "CN")),
             Upsert(Company("company/a3", "CN"))});
  MustApply(
      {Upsert(IdentifierLink("company/smic", "company/a1", v1::Link::UNSURE)),
       Upsert(IdentifierLink("company/smic", "company/a2", v1::Link::POSITIVE)),
       Upsert(IdentifierLink("company/smic", "company/a3", v1::Link::UNSURE)),
       Upsert(IdentifierLink("company/a1", "company/a2", v1::Link::UNSURE))});
  EXPECT_THAT(Pairs(Links("company/smic", v1::Link::UNSURE)),
              ElementsAre("company/a1=company/smic:UNSURE",
                          "company/a3=company/smic:UNSURE"));
  LinkQuery query;
  query.entity_id = "company/smic";
  query.page_size = 2;
  absl::StatusOr<LinkPage> page = store_->ListLinks(query);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->links.size(), 2u);
  ASSERT_FALSE(page->next_page_token.empty());
  query.page_token = page->next_page_token;
  page = store_->ListLinks(query);
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(Pairs(page->links),
              ElementsAre("company/a3=company/smic:UNSURE"));
  EXPECT_TRUE(page->next_page_token.empty());
  // Another entity's token is refused.
  LinkQuery other;
  other.entity_id = "company/a1";
  other.page_token = query.page_token;
  EXPECT_THAT(std::string(store_->ListLinks(other).status().message()),
              HasSubstr("page_token: does not belong to this query"));
  // Every link once.
  LinkQuery all;
  all.page_size = 3;
  std::vector<v1::Link> every;
  do {
    page = store_->ListLinks(all);
    ASSERT_TRUE(page.ok()) << page.status();
    every.insert(every.end(), page->links.begin(), page->links.end());
    all.page_token = page->next_page_token;
  } while (!all.page_token.empty());
  EXPECT_EQ(every.size(), 4u);
  // Errors name the field.
  LinkQuery bad;
  bad.entity_id = "smic";
  EXPECT_THAT(std::string(store_->ListLinks(bad).status().message()),
              StartsWith("entity_id:"));
  bad.entity_id = "company/smic";
  bad.judgement = static_cast<v1::Link::Judgement>(9);
  EXPECT_EQ(store_->ListLinks(bad).status().message(),
            "judgement: unknown judgement 9");
  bad.judgement = v1::Link::JUDGEMENT_UNSPECIFIED;
  bad.page_size = -1;
  EXPECT_EQ(store_->ListLinks(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      std::string(
          store_->GetLink("company/a", "facility/b").status().message()),
      StartsWith("entity_b: must be of entity_a's kind"));
}

TEST_F(LinksTest, SnapshotCarriesEachLinkOnce) {
  MustApply({Upsert(IdentifierLink("company/smic", "company/csl-el-1",
                                   v1::Link::POSITIVE)),
             Upsert(IdentifierLink("company/smic", "company/ftm-2",
                                   v1::Link::UNSURE))});
  std::vector<v1::Link> links;
  int64_t entities = 0;
  ASSERT_TRUE(store_
                  ->ExportSnapshot(
                      [&](SnapshotChunk& chunk) {
                        entities += chunk.entities.size();
                        links.insert(links.end(), chunk.links.begin(),
                                     chunk.links.end());
                        return absl::OkStatus();
                      },
                      /*chunk_records=*/2)
                  .ok());
  EXPECT_EQ(entities, 4);
  EXPECT_THAT(Pairs(links), ::testing::UnorderedElementsAre(
                                "company/csl-el-1=company/smic:POSITIVE",
                                "company/ftm-2=company/smic:UNSURE"));
}

TEST_F(LinksTest, DatabaseWrittenBeforeLinksOpensWithAnEmptyLinksFamily) {
  store_.reset();
  {
    // Drop the links column family: the database as a binary without links
    // left it.
    rocksdb::DB* raw = nullptr;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const char* name : {"default", "entities", "out_edges", "in_edges",
                             "signals", "changelog", "meta", "idempotency",
                             "identifiers", "links", "outbox"}) {
      cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    ASSERT_TRUE(
        rocksdb::DB::Open(rocksdb::DBOptions(), path_, cfs, &handles, &raw)
            .ok());
    ASSERT_TRUE(raw->DropColumnFamily(handles[9]).ok());
    for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
    delete raw;
  }
  Open();
  EXPECT_EQ(store_->GetStats()->entity_count, 4);
  EXPECT_EQ(store_->GetStats()->link_count, 0);
  MustApply({Upsert(
      IdentifierLink("company/smic", "company/ftm-2", v1::Link::UNSURE))});
  EXPECT_EQ(Links("company/smic").size(), 1u);
}

}  // namespace
}  // namespace georisk::storage
