#include "services/graphstore/write_health.h"

#include <string>
#include <utility>

#include "services/common/log.h"

namespace georisk::graphstore {

void WriteHealthRelay::Set(const absl::Status& health) {
  absl::MutexLock lock(&mu_);
  health_ = health;
  if (health.ok()) {
    common::log::Info("writes resumed");
  } else {
    common::log::Warning("writes stopped",
                         {{"reason", std::string(health.message())}});
  }
  if (sink_) sink_(health.ok());
}

void WriteHealthRelay::Attach(std::function<void(bool serving)> sink) {
  absl::MutexLock lock(&mu_);
  sink_ = std::move(sink);
  if (sink_) sink_(health_.ok());
}

}  // namespace georisk::graphstore
