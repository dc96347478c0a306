// File: domain/record_validation.h
//
// The rules ingest checks on each record, and the stream-wide ownership
// check. The record rules of the graph itself are domain/validation.h's
// (ids, countries, HS codes, ranges, NaN, unknown enum values, validity
// windows); ingest adds what only a front door needs:
//
//   - a bound on the encoded size of one record (a record with a million
//     aliases is rejected here, not by an Apply batch that no longer fits in
//     a gRPC message);
//   - with `reject_unknown_fields`, records carrying fields this build does
//     not know (sent by a newer client) are rejected rather than stored
//     half-understood.
//
//   absl::Status s = ValidateRecord(mutation, {});
//   if (!s.ok()) {
//     FieldError e = SplitFieldError(s);  // {"upsert_edge.weight",
//                                         //  "must be in [0, 1], got 1.5"}
//   }
//
// OwnershipTracker sums, across a stream, the ownership shares (OWNS edge
// weights) going into each company and reports the record that makes them
// exceed 1.0: a Warning, not a rejection (data from several sources often
// overlaps).
//
// Thread-safety: the functions are pure; an OwnershipTracker is not
// thread-safe.
#ifndef GEORISK_DOMAIN_RECORD_VALIDATION_H_
#define GEORISK_DOMAIN_RECORD_VALIDATION_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "georisk/v1/graph.pb.h"

namespace georisk::domain {

struct RecordLimits {
  // Largest encoded record, in bytes.
  size_t max_record_bytes = 1 << 20;
  // Reject records with fields unknown to this build (proto3 keeps them as
  // unknown fields when parsing binary).
  bool reject_unknown_fields = false;
};

// Validates one (normalised) record. Errors are InvalidArgument whose message
// is "<field path>: <reason>", paths relative to the mutation
// ("upsert_entity.country"); a whole-record problem has no path.
absl::Status ValidateRecord(const v1::Mutation& mutation,
                            const RecordLimits& limits);

// A validation error split into the field at fault and the reason.
struct FieldError {
  std::string field;
  std::string reason;
};

// Splits "<path>: <reason>" (the message shape of domain/validation.h and of
// GraphStore.Apply's INVALID_ARGUMENT) into its parts. A message without a
// path (no ": " before any space) gives an empty field.
FieldError SplitFieldError(absl::string_view message);

class OwnershipTracker {
 public:
  // Edges not in effect at `now` do not count. At most `max_edges` owner
  // shares are tracked; past that the check stops (Add() says so once).
  explicit OwnershipTracker(absl::Time now, size_t max_edges = 1000000);

  // Accounts for an accepted record. Returns a warning message the first time
  // the shares into a company sum above 1.0, e.g. "ownership shares into
  // company/x sum to 1.2, more than 1.0, in this stream".
  std::optional<std::string> Add(const v1::Mutation& mutation);

 private:
  struct Child {
    // Owner id -> share.
    absl::flat_hash_map<std::string, double> owners;
    double sum = 0;
    bool warned = false;
  };
  void Remove(const std::string& from, const std::string& to);

  const absl::Time now_;
  const size_t max_edges_;
  size_t edges_ = 0;
  bool full_ = false;
  absl::flat_hash_map<std::string, Child> children_;
};

}  // namespace georisk::domain

#endif  // GEORISK_DOMAIN_RECORD_VALIDATION_H_
