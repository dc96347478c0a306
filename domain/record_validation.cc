#include "domain/record_validation.h"

#include <algorithm>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/proto_time.h"
#include "domain/validation.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/unknown_field_set.h"

namespace georisk::domain {
namespace {

// Sums that exceed 1.0 by less than this are rounding, not overlap.
constexpr double kShareTolerance = 1e-6;

// "2015-11-25T00:00:00Z".
std::string FormatInstant(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

// The path of the first (sub)message holding unknown fields, or nullopt.
std::optional<std::string> UnknownFieldPath(
    const google::protobuf::Message& message, const std::string& path) {
  const google::protobuf::Reflection* reflection = message.GetReflection();
  if (!reflection->GetUnknownFields(message).empty()) return path;
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const google::protobuf::FieldDescriptor* field : fields) {
    if (field->cpp_type() !=
        google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      continue;
    }
    const std::string sub =
        path.empty() ? field->name() : absl::StrCat(path, ".", field->name());
    if (field->is_repeated()) {
      const int n = reflection->FieldSize(message, field);
      for (int i = 0; i < n; ++i) {
        auto found =
            UnknownFieldPath(reflection->GetRepeatedMessage(message, field, i),
                             absl::StrCat(sub, "[", i, "]"));
        if (found) return found;
      }
    } else {
      auto found =
          UnknownFieldPath(reflection->GetMessage(message, field), sub);
      if (found) return found;
    }
  }
  return std::nullopt;
}

}  // namespace

absl::Status ValidateRecord(const v1::Mutation& mutation,
                            const RecordLimits& limits) {
  const size_t size = mutation.ByteSizeLong();
  if (size > limits.max_record_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("record is ", size,
                                                   " bytes encoded, more than ",
                                                   limits.max_record_bytes));
  }
  if (limits.reject_unknown_fields) {
    if (std::optional<std::string> path = UnknownFieldPath(mutation, "")) {
      return absl::InvalidArgumentError(
          absl::StrCat(path->empty() ? "" : absl::StrCat(*path, ": "),
                       "has fields unknown to this server (a newer client?)"));
    }
  }
  return ValidateMutation(mutation, "");
}

FieldError SplitFieldError(absl::string_view message) {
  const size_t colon = message.find(": ");
  const size_t space = message.find(' ');
  if (colon == absl::string_view::npos || colon == 0 || space < colon) {
    return {"", std::string(message)};
  }
  return {std::string(message.substr(0, colon)),
          std::string(message.substr(colon + 2))};
}

OwnershipTracker::OwnershipTracker(absl::Time now, size_t max_edges)
    : now_(now), max_edges_(max_edges) {}

void OwnershipTracker::Remove(const std::string& from, const std::string& to,
                              const std::string& record_id) {
  auto child = children_.find(to);
  if (child == children_.end()) return;
  std::vector<Record>& records = child->second.records;
  auto it = std::find_if(records.begin(), records.end(), [&](const Record& r) {
    return r.owner == from && r.record_id == record_id;
  });
  if (it == records.end()) return;
  records.erase(it);
  --edges_;
}

double OwnershipTracker::SumAt(const Child& child, absl::Time t) {
  double sum = 0;
  const Record* best = nullptr;  // The current owner's record in effect.
  for (const Record& r : child.records) {
    if (best != nullptr && best->owner != r.owner) {
      sum += best->share;
      best = nullptr;
    }
    if (r.from > t || r.until <= t) continue;
    // Sorted by record_id within an owner: a later one wins a tie.
    if (best == nullptr || r.from >= best->from) best = &r;
  }
  if (best != nullptr) sum += best->share;
  return sum;
}

std::vector<OwnershipWarning> OwnershipTracker::Add(const v1::Mutation& m) {
  std::vector<OwnershipWarning> warnings;
  if (m.has_delete_edge()) {
    const v1::EdgeKey& k = m.delete_edge();
    if (k.kind() == v1::Edge::OWNS) {
      Remove(k.from_id(), k.to_id(), k.record_id());
    }
    return warnings;
  }
  if (!m.has_upsert_edge() || m.upsert_edge().kind() != v1::Edge::OWNS) {
    return warnings;
  }
  const v1::Edge& edge = m.upsert_edge();
  Remove(edge.from_id(), edge.to_id(), edge.record_id());
  if (edges_ >= max_edges_) {
    if (full_) return warnings;
    full_ = true;
    warnings.push_back(
        {"upsert_edge.weight",
         absl::StrCat("ownership check stopped after ", max_edges_,
                      " edges: shares past this record are not summed")});
    return warnings;
  }
  Record record;
  record.owner = edge.from_id();
  record.record_id = edge.record_id();
  record.from = edge.has_effective_from()
                    ? base::FromProtoTime(edge.effective_from())
                    : absl::InfinitePast();
  record.until = edge.has_effective_until()
                     ? base::FromProtoTime(edge.effective_until())
                     : absl::InfiniteFuture();
  record.share = edge.weight();
  if (record.from >= record.until) return warnings;  // Never in effect.

  Child& child = children_[edge.to_id()];
  std::vector<Record>& records = child.records;
  auto at = std::lower_bound(records.begin(), records.end(), record,
                             [](const Record& a, const Record& b) {
                               return std::tie(a.owner, a.record_id) <
                                      std::tie(b.owner, b.record_id);
                             });
  at = records.insert(at, std::move(record));
  ++edges_;
  const Record& added = *at;

  // Another record of the same pair in effect at the same time.
  for (const Record& other : records) {
    if (&other == &added || other.owner != added.owner) continue;
    const absl::Time from = std::max(other.from, added.from);
    const absl::Time until = std::min(other.until, added.until);
    if (from >= until) continue;
    auto format = [](absl::Time t) {
      if (t == absl::InfinitePast()) return std::string("the beginning");
      if (t == absl::InfiniteFuture()) return std::string("now on");
      return FormatInstant(t);
    };
    warnings.push_back(
        {"upsert_edge.effective_from",
         absl::StrCat("OWNS records \"", added.record_id, "\" and \"",
                      other.record_id, "\" of ", added.owner, " into ",
                      edge.to_id(), " are both in effect from ", format(from),
                      " to ", format(until),
                      ": both are kept; where they overlap the one whose "
                      "window started last counts, then the greatest "
                      "record_id")});
    break;
  }

  if (child.warned) return warnings;
  auto active = [&](absl::Time t) {
    return added.from <= t && t < added.until;
  };
  std::vector<absl::Time> instants;
  if (active(now_)) instants.push_back(now_);
  if (added.from != absl::InfinitePast()) instants.push_back(added.from);
  if (records.size() <= 1000) {
    for (const Record& r : records) {
      for (absl::Time t : {r.from, r.until}) {
        if (t != absl::InfinitePast() && t != absl::InfiniteFuture() &&
            active(t)) {
          instants.push_back(t);
        }
      }
    }
  }
  // `now` first, then in time order.
  std::sort(instants.begin() + (active(now_) ? 1 : 0), instants.end());
  for (absl::Time t : instants) {
    const double sum = SumAt(child, t);
    if (sum <= 1.0 + kShareTolerance) continue;
    child.warned = true;
    std::string message = absl::StrFormat(
        "ownership shares into %s sum to %.6g, more than 1.0, in this stream",
        edge.to_id(), sum);
    if (t != now_) {
      absl::StrAppend(&message, " (records in effect at ", FormatInstant(t),
                      ")");
    }
    warnings.push_back({"upsert_edge.weight", std::move(message)});
    break;
  }
  return warnings;
}

}  // namespace georisk::domain
