#include "domain/record_validation.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/unknown_field_set.h"
#include "base/proto_time.h"
#include "domain/validation.h"

namespace georisk::domain {
namespace {

// Sums that exceed 1.0 by less than this are rounding, not overlap.
constexpr double kShareTolerance = 1e-6;

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

bool ActiveAt(const v1::Edge& edge, absl::Time now) {
  if (edge.has_effective_from() && base::FromProtoTime(edge.effective_from()) > now) {
    return false;
  }
  if (edge.has_effective_until() &&
      base::FromProtoTime(edge.effective_until()) <= now) {
    return false;
  }
  return true;
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

void OwnershipTracker::Remove(const std::string& from, const std::string& to) {
  auto child = children_.find(to);
  if (child == children_.end()) return;
  auto owner = child->second.owners.find(from);
  if (owner == child->second.owners.end()) return;
  child->second.sum -= owner->second;
  child->second.owners.erase(owner);
  --edges_;
}

std::optional<std::string> OwnershipTracker::Add(const v1::Mutation& m) {
  if (m.has_delete_edge()) {
    if (m.delete_edge().kind() == v1::Edge::OWNS) {
      Remove(m.delete_edge().from_id(), m.delete_edge().to_id());
    }
    return std::nullopt;
  }
  if (!m.has_upsert_edge() || m.upsert_edge().kind() != v1::Edge::OWNS) {
    return std::nullopt;
  }
  const v1::Edge& edge = m.upsert_edge();
  Remove(edge.from_id(), edge.to_id());
  if (!ActiveAt(edge, now_)) return std::nullopt;
  if (edges_ >= max_edges_) {
    if (full_) return std::nullopt;
    full_ = true;
    return absl::StrCat("ownership check stopped after ", max_edges_,
                        " edges: shares past this record are not summed");
  }
  Child& child = children_[edge.to_id()];
  child.owners[edge.from_id()] = edge.weight();
  child.sum += edge.weight();
  ++edges_;
  if (child.sum > 1.0 + kShareTolerance && !child.warned) {
    child.warned = true;
    return absl::StrFormat(
        "ownership shares into %s sum to %.6g, more than 1.0, in this stream",
        edge.to_id(), child.sum);
  }
  return std::nullopt;
}

}  // namespace georisk::domain
