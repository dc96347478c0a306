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
// OwnershipTracker checks, across a stream, the ownership records (OWNS
// edges) going into each company and reports, as Warnings, not rejections
// (data from several sources often overlaps):
//   - the record that makes the shares in effect at one time sum above 1.0;
//     an owner counts once at any time, by its record then in effect;
//   - a record of an (owner, company) pair whose validity window overlaps
//     another record of the same pair (Edge.record_id): both are kept.
//
//   OwnershipTracker tracker(now);
//   for (const v1::Mutation& m : accepted) {
//     for (const OwnershipWarning& w : tracker.Add(m)) Warn(w.field,
//     w.message);
//   }
//
// Thread-safety: the functions are pure; an OwnershipTracker is not
// thread-safe.
#ifndef GEORISK_DOMAIN_RECORD_VALIDATION_H_
#define GEORISK_DOMAIN_RECORD_VALIDATION_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

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

// A warning about one record: the field at fault and what is wrong.
struct OwnershipWarning {
  std::string field;
  std::string message;

  friend bool operator==(const OwnershipWarning& a, const OwnershipWarning& b) {
    return a.field == b.field && a.message == b.message;
  }
};

class OwnershipTracker {
 public:
  // A record is identified as GraphStore keys it: (owner, company,
  // record_id); a later record with the same identity replaces it, a
  // delete_edge with it removes it. The shares into a company are summed at
  // `now` and at every instant one of its records starts or ends
  // (effective_from, effective_until; an open end is not an instant), over
  // the records in effect then, one per owner: of an owner's records in
  // effect, the one whose window started last, then the greatest record_id
  // (graph.proto, Edge.record_id). So 50% ended 2023-03, 48% ended 2023-12
  // and 51% current, all from 2015, of one owner, never sum to 149%. For a
  // company with more than 1,000 records in the stream, only `now` and the
  // new record's start are checked. At most `max_edges` records are tracked;
  // past that the check stops (Add() says so once).
  explicit OwnershipTracker(absl::Time now, size_t max_edges = 1000000);

  // Accounts for an accepted record; other records than OWNS upserts and
  // deletes are ignored. Returns, in this order:
  //   - field "upsert_edge.effective_from" when the record's window overlaps
  //     another record of the same (owner, company) pair with another
  //     record_id, e.g. "OWNS records \"r2\" and \"r1\" of person/x into
  //     company/y are both in effect from 2015-11-25T00:00:00Z to
  //     2023-03-02T00:00:00Z: both are kept; where they overlap the one whose
  //     window started last counts, then the greatest record_id";
  //   - field "upsert_edge.weight" the first time the shares into a company
  //     sum above 1.0, e.g. "ownership shares into company/x sum to 1.2, more
  //     than 1.0, in this stream" (followed by "(records in effect at
  //     <RFC 3339 time>)" when the instant is not `now`).
  std::vector<OwnershipWarning> Add(const v1::Mutation& mutation);

 private:
  struct Record {
    std::string owner;
    std::string record_id;
    absl::Time from;   // InfinitePast() when open.
    absl::Time until;  // InfiniteFuture() when open.
    double share = 0;
  };
  struct Child {
    // Sorted by (owner, record_id): an owner's records are contiguous.
    std::vector<Record> records;
    bool warned = false;
  };
  void Remove(const std::string& from, const std::string& to,
              const std::string& record_id);
  // The shares into `child` in effect at `t`, one record per owner.
  static double SumAt(const Child& child, absl::Time t);

  const absl::Time now_;
  const size_t max_edges_;
  size_t edges_ = 0;
  bool full_ = false;
  absl::flat_hash_map<std::string, Child> children_;
};

}  // namespace georisk::domain

#endif  // GEORISK_DOMAIN_RECORD_VALIDATION_H_
