// LookupByIdentifier and the `identifiers` column family behind it: kept in
// the commit's batch through upserts, identifier changes and deletes,
// unchanged by replays, built on open for a database written without it,
// paginated when many entities share one identifier.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/testing/temp_dir.h"
#include "domain/testing/builders.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/internal/identifier_index.h"
#include "storage/internal/keys.h"
#include "storage/rocksdb_graph_store.h"
#include "storage/testing/graph_store_fixture.h"

namespace georisk::storage {
namespace {

using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::DeleteEntity;
using ::georisk::domain::testing::Upsert;
using ::georisk::domain::testing::WithIdentifiers;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// GLEIF's own LEI and Apple's (resolve/identifiers_test.cc).
constexpr char kGleif[] = "506700GE1G29325QX363";
constexpr char kApple[] = "HWUPKR0MPOU8FGXBT394";

// An entry of kApple's LEI naming company/gone, which does not exist.
void PutEntryOfNoEntity(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* index) {
  ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), index,
                      internal::IdentifierPrefix(absl::StrCat("lei:", kApple)) +
                          "company/gone",
                      "")
                  .ok());
}

// Deletes meta/identifier_index, which says the index is complete.
void DeleteIndexMetaKey(rocksdb::DB* db,
                        std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
  for (auto* h : handles) {
    if (h->GetName() != "meta") continue;
    ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), h,
                           std::string(internal::kMetaIdentifierIndex))
                    .ok());
  }
}

class IdentifierIndexTest : public testing::GraphStoreFixture {
 protected:
  void SetUp() override {
    UseFreshDatabase("identifiers_");
    Open();
  }

  void MustApply(const std::vector<v1::Mutation>& batch) {
    absl::StatusOr<ApplyResult> result = store_->Apply(batch, "test");
    ASSERT_TRUE(result.ok()) << result.status();
  }

  // The ids of every entity carrying (scheme, value), across pages.
  std::vector<std::string> Find(const std::string& scheme,
                                const std::string& value,
                                bool equivalent = false, int page_size = 0) {
    IdentifierQuery query;
    query.scheme = scheme;
    query.value = value;
    query.include_equivalent = equivalent;
    query.page_size = page_size;
    std::vector<std::string> ids;
    do {
      absl::StatusOr<IdentifierPage> page = store_->LookupByIdentifier(query);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      for (const v1::Entity& e : page->entities) ids.push_back(e.id());
      query.page_token = page->next_page_token;
    } while (!query.page_token.empty());
    return ids;
  }

  // Every key of the identifiers column family, read with plain RocksDB
  // after closing the store; `edit` may change the database first.
  std::vector<std::string> RawIndexKeys() {
    store_.reset();
    std::vector<std::string> keys;
    WithRawDb([&](rocksdb::DB* db,
                  std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
      std::unique_ptr<rocksdb::Iterator> it(
          db->NewIterator(rocksdb::ReadOptions(), handles.back()));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        keys.push_back(it->key().ToString());
        EXPECT_TRUE(it->value().empty());
      }
    });
    Open();
    return keys;
  }

  // Opens the closed database with plain RocksDB, every column family, and
  // calls fn(db, handles) (handles in the database's own order).
  void WithRawDb(
      const std::function<
          void(rocksdb::DB*, std::vector<rocksdb::ColumnFamilyHandle*>&)>& fn) {
    std::vector<std::string> names;
    ASSERT_TRUE(
        rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path_, &names)
            .ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const std::string& name : names) {
      cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    rocksdb::DB* raw = nullptr;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    ASSERT_TRUE(
        rocksdb::DB::Open(rocksdb::DBOptions(), path_, cfs, &handles, &raw)
            .ok());
    // Put the handle of `identifiers` last, when there is one.
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == "identifiers") std::swap(handles[i], handles.back());
    }
    fn(raw, handles);
    for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
    delete raw;
  }
};

TEST_F(IdentifierIndexTest, UpsertIndexesNormalisedIdentifiers) {
  MustApply({Upsert(WithIdentifiers(Company("company/apple", "US"),
                                    {{"lei", " hwupkr0mpou8fgxbt394 "},
                                     {"ticker", "AAPL"},
                                     {"registration", "C0806592"}})),
             Upsert(WithIdentifiers(Company("company/gleif", "CH"),
                                    {{"lei", kGleif}}))});
  EXPECT_THAT(Find("lei", kApple), ElementsAre("company/apple"));
  EXPECT_THAT(Find("LEI", "hwup kr0m pou8 fgxb t394"),
              ElementsAre("company/apple"));
  EXPECT_THAT(Find("ticker", "aapl"), ElementsAre("company/apple"));
  EXPECT_THAT(Find("registration", "US:C0806592"),
              ElementsAre("company/apple"));
  EXPECT_THAT(Find("lei", kGleif), ElementsAre("company/gleif"));
  EXPECT_THAT(Find("isin", "US0378331005"), IsEmpty());

  IdentifierQuery query;
  query.scheme = "registration";
  query.value = "c0806592";
  query.country = "us";
  absl::StatusOr<IdentifierPage> page = store_->LookupByIdentifier(query);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->scheme, "registration");
  EXPECT_EQ(page->value, "US:C0806592");
  EXPECT_EQ(page->sequence, 1);
  ASSERT_EQ(page->entities.size(), 1u);
  EXPECT_EQ(page->entities[0].name(), "apple");
  EXPECT_EQ(page->entities[0].update_sequence(), 1);
}

TEST_F(IdentifierIndexTest, ChangedIdentifiersMoveTheEntries) {
  MustApply({Upsert(WithIdentifiers(Company("company/x", "US"),
                                    {{"lei", kGleif}, {"ticker", "XX"}}))});
  MustApply({Upsert(WithIdentifiers(
      Company("company/x", "US"), {{"lei", kApple}, {"duns", "150483782"}}))});
  EXPECT_THAT(Find("lei", kGleif), IsEmpty());
  EXPECT_THAT(Find("ticker", "XX"), IsEmpty());
  EXPECT_THAT(Find("lei", kApple), ElementsAre("company/x"));
  EXPECT_THAT(Find("duns", "150483782"), ElementsAre("company/x"));
  // Several changes of one entity in one batch: the last one counts.
  MustApply(
      {Upsert(WithIdentifiers(Company("company/x", "US"), {{"ticker", "A"}})),
       Upsert(WithIdentifiers(Company("company/x", "US"), {{"ticker", "B"}}))});
  EXPECT_THAT(Find("ticker", "A"), IsEmpty());
  EXPECT_THAT(Find("ticker", "B"), ElementsAre("company/x"));
  EXPECT_THAT(Find("lei", kApple), IsEmpty());
  // Exactly the final identifier is left in the column family.
  EXPECT_THAT(
      RawIndexKeys(),
      ElementsAre(internal::IdentifierPrefix("ticker:B") + "company/x"));
}

TEST_F(IdentifierIndexTest, DeleteRemovesTheEntries) {
  MustApply(
      {Upsert(WithIdentifiers(Company("company/a", "US"), {{"lei", kGleif}})),
       Upsert(WithIdentifiers(Company("company/b", "US"), {{"lei", kGleif}}))});
  MustApply({DeleteEntity("company/a")});
  EXPECT_THAT(Find("lei", kGleif), ElementsAre("company/b"));
  // Deleted and upserted again in one batch; created and deleted in one.
  MustApply(
      {DeleteEntity("company/b"),
       Upsert(WithIdentifiers(Company("company/b", "US"), {{"lei", kApple}})),
       Upsert(WithIdentifiers(Company("company/c", "US"), {{"lei", kApple}})),
       DeleteEntity("company/c")});
  EXPECT_THAT(Find("lei", kGleif), IsEmpty());
  EXPECT_THAT(Find("lei", kApple), ElementsAre("company/b"));
  MustApply({DeleteEntity("company/b")});
  EXPECT_THAT(RawIndexKeys(), IsEmpty());
}

TEST_F(IdentifierIndexTest, ReplayChangesNothing) {
  const std::vector<v1::Mutation> batch = {
      Upsert(WithIdentifiers(Company("company/a", "US"),
                             {{"lei", kGleif}, {"ticker", "A"}})),
      Upsert(WithIdentifiers(Company("company/b", "US"), {{"lei", kGleif}}))};
  MustApply(batch);
  const std::vector<std::string> keys = RawIndexKeys();
  ASSERT_EQ(keys.size(), 3u);
  MustApply(batch);  // Unchanged records: no commit, no index write.
  EXPECT_EQ(store_->LastSequence(), 1);
  // The change log replayed into a second store gives the same index.
  absl::StatusOr<std::vector<v1::Change>> changes =
      store_->ReadChanges(1, 0, 0);
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_EQ(RawIndexKeys(), keys);

  RocksDbGraphStoreOptions copy = options_;
  copy.path = path_ + "-replica";
  absl::StatusOr<std::unique_ptr<RocksDbGraphStore>> replica =
      RocksDbGraphStore::Open(copy);
  ASSERT_TRUE(replica.ok()) << replica.status();
  for (const v1::Change& change : *changes) {
    for (int round = 0; round < 2; ++round) {
      ASSERT_TRUE((*replica)->Apply(change.mutations(), "replay").ok());
    }
  }
  IdentifierQuery query;
  query.scheme = "lei";
  query.value = kGleif;
  absl::StatusOr<IdentifierPage> page = (*replica)->LookupByIdentifier(query);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->entities.size(), 2u);
  EXPECT_EQ(page->entities[0].id(), "company/a");
  EXPECT_EQ(page->entities[1].id(), "company/b");
  EXPECT_EQ((*replica)->LastSequence(), 1);
  replica->reset();
  rocksdb::DestroyDB(copy.path, rocksdb::Options()).PermitUncheckedError();
}

TEST_F(IdentifierIndexTest, ManyEntitiesSharingOneIdentifierArePaged) {
  std::vector<v1::Mutation> batch;
  std::vector<std::string> expected;
  for (int i = 0; i < 250; ++i) {
    const std::string slug = absl::StrCat("vessel-owner-", 1000 + i);
    batch.push_back(Upsert(WithIdentifiers(Company("company/" + slug, "US"),
                                           {{"imo_company", "5015006"}})));
    expected.push_back("company/" + slug);
  }
  batch.push_back(Upsert(WithIdentifiers(Company("company/other", "US"),
                                         {{"imo_company", "5015007"}})));
  MustApply(batch);
  EXPECT_EQ(Find("imo_company", "5015006", false, 7), expected);
  EXPECT_EQ(Find("imo_company", "5015006", false, 0), expected);  // 100s
  EXPECT_EQ(Find("imo_company", "5015006", false, 5000), expected);
  EXPECT_THAT(Find("imo_company", "5015007"), ElementsAre("company/other"));

  IdentifierQuery query;
  query.scheme = "imo_company";
  query.value = "5015006";
  query.page_size = 100;
  absl::StatusOr<IdentifierPage> first = store_->LookupByIdentifier(query);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->entities.size(), 100u);
  // A token is for its own query only.
  query.page_token = first->next_page_token;
  query.value = "5015007";
  EXPECT_EQ(store_->LookupByIdentifier(query).status().code(),
            absl::StatusCode::kInvalidArgument);
  query.value = "5015006";
  query.page_token = "garbage";
  EXPECT_EQ(store_->LookupByIdentifier(query).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(IdentifierIndexTest, CslEntityNumberFindsTheOfacReferentOnlyWhenAsked) {
  MustApply({Upsert(WithIdentifiers(Company("company/csl-sdn-18300", "US"),
                                    {{"csl_entity_number", "18300"}})),
             Upsert(WithIdentifiers(Company("company/ftm-ofac-18300", "RU"),
                                    {{"opensanctions", "ofac-18300"}}))});
  EXPECT_THAT(Find("csl_entity_number", "18300"),
              ElementsAre("company/csl-sdn-18300"));
  EXPECT_THAT(Find("csl_entity_number", "018300", /*equivalent=*/true),
              ElementsAre("company/csl-sdn-18300", "company/ftm-ofac-18300"));
  EXPECT_THAT(Find("opensanctions", "ofac-18300", /*equivalent=*/true),
              ElementsAre("company/csl-sdn-18300", "company/ftm-ofac-18300"));
}

TEST_F(IdentifierIndexTest, MalformedStoredIdentifiersAreNotIndexed) {
  // graphstore stores what validation.h allows: any scheme, any text.
  MustApply({Upsert(WithIdentifiers(
      Company("company/x", "US"), {{"lei", "5493"}, {"house_number", "12"}}))});
  EXPECT_THAT(RawIndexKeys(), IsEmpty());
  IdentifierQuery query;
  query.scheme = "lei";
  query.value = "5493";
  absl::Status s = store_->LookupByIdentifier(query).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("value: lei \"5493\""));
  query.scheme = "house_number";
  s = store_->LookupByIdentifier(query).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("scheme: unknown identifier scheme"));
  query.scheme = "lei";
  query.value = kGleif;
  query.page_size = -1;
  s = store_->LookupByIdentifier(query).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("page_size"));
}

TEST_F(IdentifierIndexTest, DatabaseWrittenWithoutTheIndexGetsItOnOpen) {
  std::vector<v1::Mutation> batch;
  for (int i = 0; i < 12000; ++i) {  // More than one build batch.
    batch.push_back(
        Upsert(WithIdentifiers(Company(absl::StrCat("company/c", i), "US"),
                               {{"perm_id", absl::StrCat(5000 + i)}})));
  }
  batch.push_back(Upsert(
      WithIdentifiers(Company("company/apple", "US"), {{"lei", kApple}})));
  MustApply(batch);
  store_.reset();
  // As the previous binary wrote it: no `identifiers`, no meta key.
  WithRawDb(
      [](rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
        ASSERT_EQ(handles.back()->GetName(), "identifiers");
        ASSERT_TRUE(db->DropColumnFamily(handles.back()).ok());
        DeleteIndexMetaKey(db, handles);
      });
  std::vector<std::string> names;
  ASSERT_TRUE(
      rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path_, &names)
          .ok());
  ASSERT_THAT(names, ::testing::Not(::testing::Contains("identifiers")));

  Open();
  EXPECT_THAT(Find("lei", kApple), ElementsAre("company/apple"));
  EXPECT_THAT(Find("perm_id", "16999"), ElementsAre("company/c11999"));
  EXPECT_THAT(Find("perm_id", "5000"), ElementsAre("company/c0"));
  EXPECT_EQ(RawIndexKeys().size(), 12001u);
  // Kept up to date from then on, and not rebuilt at the next open.
  MustApply({DeleteEntity("company/apple")});
  Open();
  EXPECT_THAT(Find("lei", kApple), IsEmpty());
}

TEST_F(IdentifierIndexTest, UnfinishedBuildIsRedoneAndStaleEntriesDropped) {
  MustApply(
      {Upsert(WithIdentifiers(Company("company/a", "US"), {{"lei", kGleif}}))});
  store_.reset();
  // A build cut short: the meta key is missing, and the column family holds
  // an entry no entity backs.
  WithRawDb(
      [](rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
        PutEntryOfNoEntity(db, handles.back());
        DeleteIndexMetaKey(db, handles);
      });
  Open();
  EXPECT_THAT(Find("lei", kApple), IsEmpty());
  EXPECT_THAT(Find("lei", kGleif), ElementsAre("company/a"));
}

TEST_F(IdentifierIndexTest, AnEntryWithoutItsEntityIsDataLoss) {
  store_.reset();
  WithRawDb(
      [](rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
        PutEntryOfNoEntity(db, handles.back());
      });
  Open();  // The meta key says complete: no rebuild.
  IdentifierQuery query;
  query.scheme = "lei";
  query.value = kApple;
  absl::Status s = store_->LookupByIdentifier(query).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), HasSubstr("company/gone"));
}

}  // namespace
}  // namespace georisk::storage
