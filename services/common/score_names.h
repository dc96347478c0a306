// File: services/common/score_names.h
//
// The names of the v1 score enums wherever they are shown or used as
// labels: georiskctl's tables, Alertmanager labels and annotations. One
// place, so that an alert's `factor` label and the CLI's --factor value
// cannot drift apart.
//
//   BandName(v1::BAND_HIGH)                    // "high"
//   FactorName(v1::FACTOR_CROSS_STRAIT)        // "cross_strait"
//   FactorLabel(v1::FACTOR_CROSS_STRAIT)       // "cross-strait"
#ifndef GEORISK_SERVICES_COMMON_SCORE_NAMES_H_
#define GEORISK_SERVICES_COMMON_SCORE_NAMES_H_

#include "absl/strings/string_view.h"
#include "georisk/v1/graph.pb.h"
#include "georisk/v1/score.pb.h"

namespace georisk::common {

// "low", "medium", "high", "critical"; "" for BAND_UNSPECIFIED and unknown
// values.
absl::string_view BandName(v1::Band band);

// "export_controls", "tariffs", "cross_strait"; "composite" for
// FACTOR_UNSPECIFIED (the composite score) and unknown values. The spelling
// of georiskctl's --factor and of alert labels.
absl::string_view FactorName(v1::Factor factor);

// For people: "export controls", "tariffs", "cross-strait", "composite".
absl::string_view FactorLabel(v1::Factor factor);

}  // namespace georisk::common

#endif  // GEORISK_SERVICES_COMMON_SCORE_NAMES_H_
