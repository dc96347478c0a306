#include "storage/internal/record_codec.h"

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace georisk::storage::internal {
namespace {

using google::protobuf::io::CodedInputStream;

constexpr int kWireVarint = 0;
constexpr int kWireFixed64 = 1;
constexpr int kWireLengthDelimited = 2;
constexpr int kWireFixed32 = 5;

constexpr uint32_t MakeTag(int field, int wire_type) {
  return static_cast<uint32_t>(field) << 3 | static_cast<uint32_t>(wire_type);
}

size_t VarintLength(uint64_t value) {
  size_t n = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++n;
  }
  return n;
}

void SplitTime(absl::Time time, int64_t* seconds, int32_t* nanos) {
  *seconds = absl::ToUnixSeconds(time);
  absl::Duration rest = time - absl::FromUnixSeconds(*seconds);
  if (rest < absl::ZeroDuration()) {
    --*seconds;
    rest += absl::Seconds(1);
  }
  *nanos = static_cast<int32_t>(absl::ToInt64Nanoseconds(rest));
}

bool SkipField(uint32_t tag, CodedInputStream* in) {
  switch (tag & 7) {
    case kWireVarint: {
      uint64_t ignored;
      return in->ReadVarint64(&ignored);
    }
    case kWireFixed64:
      return in->Skip(8);
    case kWireLengthDelimited: {
      uint32_t length;
      return in->ReadVarint32(&length) && in->Skip(static_cast<int>(length));
    }
    case kWireFixed32:
      return in->Skip(4);
    default:
      return false;
  }
}

}  // namespace

void AppendDeterministic(const google::protobuf::MessageLite& message,
                         std::string* out) {
  const size_t size = message.ByteSizeLong();
  const size_t old_size = out->size();
  out->resize(old_size + size);
  google::protobuf::io::ArrayOutputStream array(&(*out)[old_size],
                                                static_cast<int>(size));
  google::protobuf::io::CodedOutputStream coded(&array);
  coded.SetSerializationDeterministic(true);
  message.SerializeWithCachedSizes(&coded);
}

void AppendVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

void AppendLengthDelimited(int field, absl::string_view bytes,
                           std::string* out) {
  AppendVarint(MakeTag(field, kWireLengthDelimited), out);
  AppendVarint(bytes.size(), out);
  out->append(bytes.data(), bytes.size());
}

void AppendSequenceTail(int64_t sequence, std::string* out) {
  AppendVarint(MakeTag(kUpdateSequenceField, kWireVarint), out);
  AppendVarint(static_cast<uint64_t>(sequence), out);
}

void AppendEntityTail(int64_t sequence, absl::Time time,
                      absl::string_view origin, std::string* out) {
  AppendSequenceTail(sequence, out);
  google::protobuf::Timestamp timestamp;
  ToTimestamp(time, &timestamp);
  AppendLengthDelimited(kUpdateTimeField, timestamp.SerializeAsString(), out);
  if (!origin.empty()) {
    AppendLengthDelimited(kEntityUpdateOriginField, origin, out);
  }
}

void AppendSequenceAndOriginTail(int64_t sequence, absl::string_view origin,
                                 std::string* out) {
  AppendSequenceTail(sequence, out);
  if (!origin.empty()) AppendLengthDelimited(kUpdateOriginField, origin, out);
}

bool SameBody(absl::string_view stored, absl::string_view body) {
  if (stored.size() <= body.size() || stored.substr(0, body.size()) != body) {
    return false;
  }
  absl::string_view tail = stored.substr(body.size());
  CodedInputStream in(reinterpret_cast<const uint8_t*>(tail.data()),
                      static_cast<int>(tail.size()));
  if (in.ReadTag() != MakeTag(kUpdateSequenceField, kWireVarint)) return false;
  uint64_t sequence;
  if (!in.ReadVarint64(&sequence)) return false;
  // Then an entity's update_time (21) and update_origin (22), or the
  // update_origin (21) of an edge, signal or link: length-delimited fields
  // 21 and 22, in that order, each at most once.
  int last_field = kUpdateSequenceField;
  while (!in.ExpectAtEnd()) {
    const uint32_t tag = in.ReadTag();
    const int field = static_cast<int>(tag >> 3);
    if ((tag & 7) != kWireLengthDelimited || field <= last_field ||
        field > kEntityUpdateOriginField) {
      return false;
    }
    last_field = field;
    uint32_t length;
    if (!in.ReadVarint32(&length) || !in.Skip(static_cast<int>(length))) {
      return false;
    }
  }
  return true;
}

void AppendRecordMutation(int mutation_field, absl::string_view record,
                          absl::string_view idempotency_key,
                          std::string* change_body, int edge_copy) {
  const uint32_t record_tag = MakeTag(mutation_field, kWireLengthDelimited);
  size_t mutation_size =
      VarintLength(record_tag) + VarintLength(record.size()) + record.size();
  if (!idempotency_key.empty()) {
    mutation_size +=
        1 + VarintLength(idempotency_key.size()) + idempotency_key.size();
  }
  const uint32_t copy_tag =
      MakeTag(v1::Mutation::kEdgeCopyFieldNumber, kWireVarint);
  if (edge_copy != 0) {
    mutation_size += VarintLength(copy_tag) + VarintLength(edge_copy);
  }
  AppendVarint(MakeTag(3, kWireLengthDelimited), change_body);
  AppendVarint(mutation_size, change_body);
  AppendVarint(record_tag, change_body);
  AppendVarint(record.size(), change_body);
  change_body->append(record.data(), record.size());
  if (!idempotency_key.empty()) {
    AppendLengthDelimited(v1::Mutation::kIdempotencyKeyFieldNumber,
                          idempotency_key, change_body);
  }
  if (edge_copy != 0) {
    AppendVarint(copy_tag, change_body);
    AppendVarint(static_cast<uint64_t>(edge_copy), change_body);
  }
}

void AppendMutation(const v1::Mutation& mutation, std::string* change_body) {
  AppendVarint(MakeTag(3, kWireLengthDelimited), change_body);
  AppendVarint(mutation.ByteSizeLong(), change_body);
  AppendDeterministic(mutation, change_body);
}

std::string EncodeChangeHeader(int64_t sequence, absl::Time commit_time) {
  std::string out;
  AppendVarint(MakeTag(v1::Change::kSequenceFieldNumber, kWireVarint), &out);
  AppendVarint(static_cast<uint64_t>(sequence), &out);
  google::protobuf::Timestamp timestamp;
  ToTimestamp(commit_time, &timestamp);
  AppendLengthDelimited(v1::Change::kCommitTimeFieldNumber,
                        timestamp.SerializeAsString(), &out);
  return out;
}

std::string EncodeChangeOrigin(absl::string_view origin) {
  std::string out;
  if (!origin.empty()) {
    AppendLengthDelimited(v1::Change::kOriginFieldNumber, origin, &out);
  }
  return out;
}

absl::StatusOr<absl::Time> PeekChangeCommitTime(absl::string_view change) {
  CodedInputStream in(reinterpret_cast<const uint8_t*>(change.data()),
                      static_cast<int>(change.size()));
  const uint32_t wanted =
      MakeTag(v1::Change::kCommitTimeFieldNumber, kWireLengthDelimited);
  while (true) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) break;
    if (tag == wanted) {
      uint32_t length;
      std::string bytes;
      google::protobuf::Timestamp timestamp;
      if (!in.ReadVarint32(&length) ||
          !in.ReadString(&bytes, static_cast<int>(length)) ||
          !timestamp.ParseFromString(bytes)) {
        break;
      }
      return FromTimestamp(timestamp);
    }
    if (!SkipField(tag, &in)) break;
  }
  return absl::DataLossError("change-log record has no readable commit_time");
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) +
         absl::Nanoseconds(timestamp.nanos());
}

void ToTimestamp(absl::Time time, google::protobuf::Timestamp* timestamp) {
  int64_t seconds;
  int32_t nanos;
  SplitTime(time, &seconds, &nanos);
  timestamp->set_seconds(seconds);
  timestamp->set_nanos(nanos);
}

}  // namespace georisk::storage::internal
