#include "services/graphstore/write_health.h"

#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace georisk::graphstore {
namespace {

using ::testing::ElementsAre;

TEST(WriteHealthRelayTest, KeepsChangesUntilAttachedThenForwardsThem) {
  WriteHealthRelay relay;
  relay.Set(absl::UnavailableError("writes are stopped: the disk is full"));
  std::vector<bool> told;
  relay.Attach([&](bool serving) { told.push_back(serving); });
  EXPECT_THAT(told, ElementsAre(false));  // The state before Attach.
  relay.Set(absl::OkStatus());
  relay.Set(absl::UnavailableError("writes are stopped: again"));
  EXPECT_THAT(told, ElementsAre(false, true, false));
}

TEST(WriteHealthRelayTest, StartsHealthy) {
  WriteHealthRelay relay;
  std::vector<bool> told;
  relay.Attach([&](bool serving) { told.push_back(serving); });
  EXPECT_THAT(told, ElementsAre(true));
}

}  // namespace
}  // namespace georisk::graphstore
