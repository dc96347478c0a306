// File: storage/internal/record_codec.h
//
// Encodes stored records and change-log records so that each record is
// serialised exactly once on the write path.
//
// A stored value is the record's deterministic protobuf serialisation with its
// output-only fields cleared (the "body"), followed by those output-only
// fields in protobuf wire format (the "tail": update_sequence = 20; for
// entities, update_time = 21 and update_origin = 22; for edges, signals and
// links, update_origin = 21; an origin only when the commit has one).
// Protobuf parses concatenated encodings as one
// message, so the value parses as the record with its output fields set, and
// the body is a prefix of it that can be compared without parsing.
//
// A change-log value is a georisk.v1.Change assembled from three pieces:
// a header (sequence = 1, commit_time = 2), the mutations (field 3, each an
// already-encoded Mutation) and a trailer (origin = 4).
//
// Example:
//
//   std::string value;
//   AppendBody(edge, &value);                          // body
//   const size_t body_size = value.size();
//   AppendSequenceAndOriginTail(sequence, origin, &value);  // tail
//   ...
//   if (SameBody(stored_value, new_body)) { /* unchanged */ }
//
// Thread-safe: every function here is pure.
#ifndef GEORISK_STORAGE_INTERNAL_RECORD_CODEC_H_
#define GEORISK_STORAGE_INTERNAL_RECORD_CODEC_H_

#include <cstdint>
#include <string>
#include <type_traits>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "georisk/v1/graph.pb.h"
#include "google/protobuf/message_lite.h"
#include "google/protobuf/timestamp.pb.h"

namespace georisk::storage::internal {

// Field numbers of the output-only fields (graph.proto).
inline constexpr int kUpdateSequenceField = 20;
inline constexpr int kUpdateTimeField = 21;          // Entities.
inline constexpr int kEntityUpdateOriginField = 22;  // Entities.
inline constexpr int kUpdateOriginField = 21;        // Edges, signals, links.

// Appends the deterministic serialisation of `message` (map entries sorted by
// key) to `out`.
void AppendDeterministic(const google::protobuf::MessageLite& message,
                         std::string* out);

// Appends the body of `record` (an Entity, Edge, Signal or Link): its
// deterministic serialisation with the output-only fields (update_sequence,
// update_origin and an entity's update_time) cleared. A copy is made only
// when the record carries one of them (a record read back and sent again).
template <typename Record>
void AppendBody(const Record& record, std::string* out) {
  bool has_output_fields =
      record.update_sequence() != 0 || !record.update_origin().empty();
  if constexpr (std::is_same_v<Record, v1::Entity>) {
    has_output_fields = has_output_fields || record.has_update_time();
  }
  if (!has_output_fields) {
    AppendDeterministic(record, out);
    return;
  }
  Record copy = record;
  copy.clear_update_sequence();
  copy.clear_update_origin();
  if constexpr (std::is_same_v<Record, v1::Entity>) copy.clear_update_time();
  AppendDeterministic(copy, out);
}

// Appends field 20 (update_sequence) = `sequence`.
void AppendSequenceTail(int64_t sequence, std::string* out);
// An entity's tail: field 20 = `sequence`, field 21 (update_time) = `time`
// and, when `origin` is not empty, field 22 (update_origin) = `origin`.
void AppendEntityTail(int64_t sequence, absl::Time time,
                      absl::string_view origin, std::string* out);
// The tail of an edge, signal or link: field 20 = `sequence` and, when
// `origin` is not empty, field 21 (update_origin) = `origin`.
void AppendSequenceAndOriginTail(int64_t sequence, absl::string_view origin,
                                 std::string* out);

// True when `stored` is `body` followed by a tail written by the Append*Tail
// functions and nothing else: the stored record equals the record whose body
// is `body`, output-only fields aside.
bool SameBody(absl::string_view stored, absl::string_view body);

// Protobuf wire-format primitives.
void AppendVarint(uint64_t value, std::string* out);
void AppendLengthDelimited(int field, absl::string_view bytes,
                           std::string* out);

// Appends to a Change body one `mutations` entry (Change field 3) that holds a
// Mutation with `record` (an encoded Entity, Edge or Signal) in the oneof
// field `mutation_field`, when not empty, `idempotency_key` and, when not
// EDGE_COPY_BOTH (0), `edge_copy`.
void AppendRecordMutation(int mutation_field, absl::string_view record,
                          absl::string_view idempotency_key,
                          std::string* change_body, int edge_copy = 0);
// Appends an already-built Mutation as a `mutations` entry.
void AppendMutation(const v1::Mutation& mutation, std::string* change_body);

// Change fields 1 (sequence) and 2 (commit_time).
std::string EncodeChangeHeader(int64_t sequence, absl::Time commit_time);
// Change field 4 (origin); empty when `origin` is.
std::string EncodeChangeOrigin(absl::string_view origin);

// Reads commit_time from an encoded Change without parsing its mutations.
// DataLoss when the bytes are not a Change or carry no commit_time.
absl::StatusOr<absl::Time> PeekChangeCommitTime(absl::string_view change);

// Conversions between absl::Time and google.protobuf.Timestamp.
absl::Time FromTimestamp(const google::protobuf::Timestamp& timestamp);
void ToTimestamp(absl::Time time, google::protobuf::Timestamp* timestamp);

}  // namespace georisk::storage::internal

#endif  // GEORISK_STORAGE_INTERNAL_RECORD_CODEC_H_
