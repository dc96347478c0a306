#include "services/common/score_names.h"

namespace georisk::common {

absl::string_view BandName(v1::Band band) {
  switch (band) {
    case v1::BAND_LOW:
      return "low";
    case v1::BAND_MEDIUM:
      return "medium";
    case v1::BAND_HIGH:
      return "high";
    case v1::BAND_CRITICAL:
      return "critical";
    default:
      return "";
  }
}

absl::string_view FactorName(v1::Factor factor) {
  switch (factor) {
    case v1::FACTOR_EXPORT_CONTROLS:
      return "export_controls";
    case v1::FACTOR_TARIFFS:
      return "tariffs";
    case v1::FACTOR_CROSS_STRAIT:
      return "cross_strait";
    default:
      return "composite";
  }
}

absl::string_view FactorLabel(v1::Factor factor) {
  switch (factor) {
    case v1::FACTOR_EXPORT_CONTROLS:
      return "export controls";
    case v1::FACTOR_TARIFFS:
      return "tariffs";
    case v1::FACTOR_CROSS_STRAIT:
      return "cross-strait";
    default:
      return "composite";
  }
}

}  // namespace georisk::common
