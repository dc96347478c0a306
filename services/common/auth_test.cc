#include "services/common/auth.h"

#include "gtest/gtest.h"

namespace georisk::common {
namespace {

TEST(TokenStoreTest, ParsesTokensRolesNamesAndComments) {
  auto store = TokenStore::Parse(
      "# georisk tokens\n"
      "reader-token-0123456789 reader risk-dashboard\n"
      "\n"
      "writer-token-0123456789\twriter   # the importer\n"
      "admin-token-01234567890 admin\n");
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(store->size(), 3u);
  const TokenStore::Entry* e = store->Find("writer-token-0123456789");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->role, Role::kWriter);
  EXPECT_EQ(e->name, "writer");
  EXPECT_EQ(store->Find("reader-token-0123456789")->name, "risk-dashboard");
  EXPECT_EQ(store->Find("reader-token-012345678"), nullptr);  // A prefix.
  EXPECT_EQ(store->Find(""), nullptr);
}

TEST(TokenStoreTest, ErrorsNameTheLine) {
  struct Case {
    const char* text;
    const char* message;
  };
  for (const Case& c : {
           Case{"short reader\n", "line 1: token shorter than 16 characters"},
           Case{"\nreader-token-0123456789 root\n",
                "line 2: unknown role \"root\""},
           Case{"reader-token-0123456789\n",
                "line 1: expected \"<token> <role> [<name>]\""},
           Case{"reader-token-01234567\"9 reader\n",
                "line 1: token has a character outside [A-Za-z0-9._~+/=-]"},
           Case{"reader-token-0123456789 reader\n"
                "reader-token-0123456789 admin\n",
                "line 2: duplicate token"},
           Case{"# nothing\n", "no tokens"},
       }) {
    auto store = TokenStore::Parse(c.text);
    ASSERT_FALSE(store.ok()) << c.text;
    EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(store.status().message(), c.message);
  }
}

TEST(RolesTest, LeastPrivilege) {
  const char* kScore = "/georisk.v1.Scorer/GetScore";
  const char* kAlerts = "/georisk.v1.Alerts/WatchAlerts";
  const char* kIngest = "/georisk.v1.Ingest/Ingest";
  const char* kApply = "/georisk.v1.GraphStore/Apply";
  const char* kHealth = "/grpc.health.v1.Health/Check";
  const char* kReflect =
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";
  EXPECT_TRUE(RoleAllows(Role::kReader, kScore));
  EXPECT_TRUE(RoleAllows(Role::kReader, kAlerts));
  EXPECT_TRUE(RoleAllows(Role::kReader, kReflect));
  EXPECT_FALSE(RoleAllows(Role::kReader, kIngest));
  EXPECT_FALSE(RoleAllows(Role::kReader, kApply));
  EXPECT_TRUE(RoleAllows(Role::kWriter, kIngest));
  EXPECT_FALSE(RoleAllows(Role::kWriter, kScore));
  EXPECT_FALSE(RoleAllows(Role::kWriter, kApply));
  for (const char* p : {kScore, kAlerts, kIngest, kApply, kReflect}) {
    EXPECT_TRUE(RoleAllows(Role::kAdmin, p)) << p;
  }
  EXPECT_TRUE(IsOpenMethod(kHealth));
  EXPECT_FALSE(IsOpenMethod(kScore));
  EXPECT_FALSE(RoleAllows(Role::kReader, "/georisk.v1.Scorerx/GetScore"));
}

TEST(RolesTest, ReaderMayLookUpIdentifiersButReadNothingElseOfGraphStore) {
  const char* kLookup = "/georisk.v1.GraphStore/LookupByIdentifier";
  EXPECT_TRUE(RoleAllows(Role::kReader, kLookup));
  EXPECT_FALSE(RoleAllows(Role::kWriter, kLookup));
  EXPECT_TRUE(RoleAllows(Role::kAdmin, kLookup));
  for (const char* p :
       {"/georisk.v1.GraphStore/GetEntity", "/georisk.v1.GraphStore/ListEdges",
        "/georisk.v1.GraphStore/ExportSnapshot",
        "/georisk.v1.GraphStore/LookupByIdentifierX",
        "/georisk.v1.GraphStore/LookupByIdentifier/"}) {
    EXPECT_FALSE(RoleAllows(Role::kReader, p)) << p;
  }
}

TEST(RolesTest, ResolutionReadsForReadersAndWritersReviewsForWriters) {
  const char* kReads[] = {"/georisk.v1.Resolution/MatchEntities",
                          "/georisk.v1.Resolution/ListReviewQueue",
                          "/georisk.v1.Resolution/ListLinks"};
  const char* kReview = "/georisk.v1.Resolution/ReviewLink";
  for (const char* p : kReads) {
    EXPECT_TRUE(RoleAllows(Role::kReader, p)) << p;
    EXPECT_TRUE(RoleAllows(Role::kWriter, p)) << p;
    EXPECT_TRUE(RoleAllows(Role::kAdmin, p)) << p;
  }
  EXPECT_FALSE(RoleAllows(Role::kReader, kReview));
  EXPECT_TRUE(RoleAllows(Role::kWriter, kReview));
  EXPECT_TRUE(RoleAllows(Role::kAdmin, kReview));
  // A method the service does not have is nobody's but admin's.
  EXPECT_FALSE(RoleAllows(Role::kWriter, "/georisk.v1.Resolution/Other"));
}

}  // namespace
}  // namespace georisk::common
