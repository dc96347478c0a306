#include "storage/internal/rocksdb_util.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "storage/internal/keys.h"

namespace georisk::storage::internal {
namespace {

TEST(ToAbslStatusTest, MapsCodes) {
  EXPECT_TRUE(ToAbslStatus(rocksdb::Status::OK(), "x").ok());
  EXPECT_EQ(ToAbslStatus(rocksdb::Status::NotFound("k"), "x").code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ToAbslStatus(rocksdb::Status::Corruption("bad"), "x").code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ToAbslStatus(rocksdb::Status::InvalidArgument("a"), "x").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ToAbslStatus(rocksdb::Status::NoSpace("full"), "x").code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ToAbslStatus(rocksdb::Status::IOError("disk"), "x").code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(ToAbslStatus(rocksdb::Status::Busy(), "x").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(ToAbslStatus(rocksdb::Status::ShutdownInProgress(), "x").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(ToAbslStatus(rocksdb::Status::NotSupported(), "x").code(),
            absl::StatusCode::kUnimplemented);
  const absl::Status s =
      ToAbslStatus(rocksdb::Status::IOError("disk"), "writing batch");
  EXPECT_EQ(s.message().substr(0, 15), "writing batch: ");
}

TEST(EdgePrefixTransformTest, ExtractsPartitionIdAndTerminator) {
  std::unique_ptr<const rocksdb::SliceTransform> t(NewEdgePrefixTransform());
  const std::string key =
      EncodeOutEdgeKey("company/a", v1::Edge::OWNS, "company/b", "");
  ASSERT_TRUE(t->InDomain(key));
  EXPECT_EQ(t->Transform(key).ToString(), EdgePrefix("company/a"));
  // The prefix of a prefix is itself (a RocksDB requirement).
  const std::string prefix = t->Transform(key).ToString();
  EXPECT_TRUE(t->InDomain(prefix));
  EXPECT_EQ(t->Transform(prefix).ToString(), prefix);
  EXPECT_TRUE(t->SameResultWhenAppended(prefix));
  EXPECT_FALSE(t->InDomain(EncodeEntityKey("company/a")));
  EXPECT_FALSE(t->InDomain(""));
  EXPECT_STREQ(t->Name(), "georisk.EdgePrefix.v1");
}

}  // namespace
}  // namespace georisk::storage::internal
