#include "storage/internal/keys.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace georisk::storage::internal {
namespace {

void AppendPartition(absl::string_view id, std::string* out) {
  const uint16_t p = Partition(id);
  out->push_back(static_cast<char>(p >> 8));
  out->push_back(static_cast<char>(p & 0xff));
}

uint16_t ReadPartition(absl::string_view key) {
  return static_cast<uint16_t>(static_cast<uint8_t>(key[0]) << 8 |
                               static_cast<uint8_t>(key[1]));
}

absl::Status Malformed(absl::string_view what, absl::string_view key,
                       absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "malformed ", what, " key \"", absl::CHexEscape(key), "\": ", why));
}

bool IsKnownEdgeKind(int kind) {
  return kind != v1::Edge::KIND_UNSPECIFIED && v1::Edge::Kind_IsValid(kind);
}

std::string EncodeEdgeKey(absl::string_view anchor, v1::Edge::Kind kind,
                          absl::string_view other,
                          absl::string_view product_code,
                          absl::string_view record_id) {
  std::string key;
  key.reserve(kPartitionBytes + anchor.size() + other.size() +
              product_code.size() + record_id.size() + 4);
  AppendPartition(anchor, &key);
  key.append(anchor.data(), anchor.size());
  key.push_back(kIdTerminator);
  key.push_back(static_cast<char>(kind));
  key.append(other.data(), other.size());
  key.push_back(kIdTerminator);
  key.append(product_code.data(), product_code.size());
  if (!record_id.empty()) {
    key.push_back(kIdTerminator);
    key.append(record_id.data(), record_id.size());
  }
  return key;
}

// Splits an edge key into (anchor id, kind, other id, product code, record
// id).
absl::Status DecodeEdgeKey(absl::string_view key, absl::string_view what,
                           std::string* anchor, v1::Edge::Kind* kind,
                           std::string* other, std::string* product_code,
                           std::string* record_id) {
  if (key.size() < kPartitionBytes) return Malformed(what, key, "too short");
  absl::string_view rest = key.substr(kPartitionBytes);
  const size_t anchor_end = rest.find(kIdTerminator);
  if (anchor_end == absl::string_view::npos || anchor_end == 0) {
    return Malformed(what, key, "no id terminator");
  }
  absl::string_view anchor_id = rest.substr(0, anchor_end);
  if (ReadPartition(key) != Partition(anchor_id)) {
    return Malformed(what, key, "partition does not match the id");
  }
  rest.remove_prefix(anchor_end + 1);
  if (rest.empty() || !IsKnownEdgeKind(static_cast<uint8_t>(rest[0]))) {
    return Malformed(what, key, "unknown edge kind");
  }
  *kind = static_cast<v1::Edge::Kind>(static_cast<uint8_t>(rest[0]));
  rest.remove_prefix(1);
  const size_t other_end = rest.find(kIdTerminator);
  if (other_end == absl::string_view::npos || other_end == 0) {
    return Malformed(what, key, "no terminator after the second id");
  }
  absl::string_view product = rest.substr(other_end + 1);
  absl::string_view record;
  const size_t product_end = product.find(kIdTerminator);
  if (product_end != absl::string_view::npos) {
    record = product.substr(product_end + 1);
    product = product.substr(0, product_end);
    if (record.empty()) {
      return Malformed(what, key, "empty record id after the product code");
    }
    if (record.find(kIdTerminator) != absl::string_view::npos) {
      return Malformed(what, key, "0x00 in the record id");
    }
  }
  anchor->assign(anchor_id.data(), anchor_id.size());
  other->assign(rest.data(), other_end);
  product_code->assign(product.data(), product.size());
  record_id->assign(record.data(), record.size());
  return absl::OkStatus();
}

}  // namespace

uint64_t Fnv1a64(absl::string_view data) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

uint16_t Partition(absl::string_view id) {
  const uint64_t h = Fnv1a64(id);
  return static_cast<uint16_t>((h ^ (h >> 16) ^ (h >> 32) ^ (h >> 48)) &
                               0xffff);
}

std::string EncodeFixed64BE(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return out;
}

absl::StatusOr<uint64_t> DecodeFixed64BE(absl::string_view bytes) {
  if (bytes.size() != 8) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected 8 bytes, got ", bytes.size()));
  }
  uint64_t value = 0;
  for (unsigned char c : bytes) value = value << 8 | c;
  return value;
}

std::string EncodeEntityKey(absl::string_view id) {
  std::string key;
  key.reserve(kPartitionBytes + id.size());
  AppendPartition(id, &key);
  key.append(id.data(), id.size());
  return key;
}

std::string EncodeSignalKey(absl::string_view id) {
  return EncodeEntityKey(id);
}

absl::StatusOr<std::string> DecodeRecordKey(absl::string_view key) {
  if (key.size() <= kPartitionBytes)
    return Malformed("record", key, "too short");
  absl::string_view id = key.substr(kPartitionBytes);
  if (id.find(kIdTerminator) != absl::string_view::npos) {
    return Malformed("record", key, "0x00 in the id");
  }
  if (ReadPartition(key) != Partition(id)) {
    return Malformed("record", key, "partition does not match the id");
  }
  return std::string(id);
}

EdgeKeyParts PartsOf(const v1::Edge& edge) {
  return {edge.from_id(), edge.kind(), edge.to_id(), edge.product_code(),
          edge.record_id()};
}

EdgeKeyParts PartsOf(const v1::EdgeKey& key) {
  return {key.from_id(), key.kind(), key.to_id(), key.product_code(),
          key.record_id()};
}

v1::EdgeKey ToEdgeKey(const EdgeKeyParts& parts) {
  v1::EdgeKey key;
  key.set_from_id(parts.from_id);
  key.set_kind(parts.kind);
  key.set_to_id(parts.to_id);
  key.set_product_code(parts.product_code);
  key.set_record_id(parts.record_id);
  return key;
}

std::string EncodeOutEdgeKey(absl::string_view from_id, v1::Edge::Kind kind,
                             absl::string_view to_id,
                             absl::string_view product_code,
                             absl::string_view record_id) {
  return EncodeEdgeKey(from_id, kind, to_id, product_code, record_id);
}

std::string EncodeInEdgeKey(absl::string_view from_id, v1::Edge::Kind kind,
                            absl::string_view to_id,
                            absl::string_view product_code,
                            absl::string_view record_id) {
  return EncodeEdgeKey(to_id, kind, from_id, product_code, record_id);
}

std::string EncodeOutEdgeKey(const EdgeKeyParts& parts) {
  return EncodeOutEdgeKey(parts.from_id, parts.kind, parts.to_id,
                          parts.product_code, parts.record_id);
}

std::string EncodeInEdgeKey(const EdgeKeyParts& parts) {
  return EncodeInEdgeKey(parts.from_id, parts.kind, parts.to_id,
                         parts.product_code, parts.record_id);
}

absl::StatusOr<EdgeKeyParts> DecodeOutEdgeKey(absl::string_view key) {
  EdgeKeyParts parts;
  absl::Status s =
      DecodeEdgeKey(key, "out-edge", &parts.from_id, &parts.kind, &parts.to_id,
                    &parts.product_code, &parts.record_id);
  if (!s.ok()) return s;
  return parts;
}

absl::StatusOr<EdgeKeyParts> DecodeInEdgeKey(absl::string_view key) {
  EdgeKeyParts parts;
  absl::Status s =
      DecodeEdgeKey(key, "in-edge", &parts.to_id, &parts.kind, &parts.from_id,
                    &parts.product_code, &parts.record_id);
  if (!s.ok()) return s;
  return parts;
}

std::string EdgePrefix(absl::string_view id) {
  std::string prefix = EncodeEntityKey(id);
  prefix.push_back(kIdTerminator);
  return prefix;
}

std::string EdgeKindPrefix(absl::string_view id, v1::Edge::Kind kind) {
  std::string prefix = EdgePrefix(id);
  prefix.push_back(static_cast<char>(kind));
  return prefix;
}

std::string EncodeLinkKey(absl::string_view owner_id,
                          absl::string_view other_id) {
  std::string key = EdgePrefix(owner_id);
  key.append(other_id.data(), other_id.size());
  return key;
}

std::string LinkPrefix(absl::string_view id) { return EdgePrefix(id); }

absl::StatusOr<LinkKeyParts> DecodeLinkKey(absl::string_view key) {
  const size_t prefix = EdgePrefixLength(key);
  if (prefix == 0 || prefix == kPartitionBytes + 1 || prefix == key.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed link key \"", absl::CHexEscape(key), "\""));
  }
  LinkKeyParts parts;
  parts.owner_id =
      std::string(key.substr(kPartitionBytes, prefix - 1 - kPartitionBytes));
  parts.other_id = std::string(key.substr(prefix));
  if (key.substr(0, kPartitionBytes) !=
      EncodeEntityKey(parts.owner_id).substr(0, kPartitionBytes)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "link key \"", absl::CHexEscape(key), "\": partition does not match"));
  }
  return parts;
}

std::string PrefixSuccessor(absl::string_view prefix) {
  std::string s(prefix);
  while (!s.empty()) {
    unsigned char last = static_cast<unsigned char>(s.back());
    if (last != 0xff) {
      s.back() = static_cast<char>(last + 1);
      return s;
    }
    s.pop_back();
  }
  return s;
}

std::string EncodeChangeLogKey(uint64_t sequence) {
  return EncodeFixed64BE(sequence);
}

absl::StatusOr<uint64_t> DecodeChangeLogKey(absl::string_view key) {
  if (key.size() != kSequenceKeyBytes) {
    return Malformed("change-log", key, "not 8 bytes");
  }
  return DecodeFixed64BE(key);
}

std::string OutboxPeerPrefix(int peer) {
  std::string out(2, '\0');
  out[0] = static_cast<char>((peer >> 8) & 0xff);
  out[1] = static_cast<char>(peer & 0xff);
  return out;
}

std::string EncodeOutboxKey(int peer, uint64_t sequence, uint32_t ordinal) {
  std::string out = OutboxPeerPrefix(peer);
  out += EncodeFixed64BE(sequence);
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((ordinal >> shift) & 0xff));
  }
  return out;
}

absl::StatusOr<OutboxKeyParts> DecodeOutboxKey(absl::string_view key) {
  if (key.size() != kOutboxKeyBytes) {
    return Malformed("outbox", key, "not 14 bytes");
  }
  OutboxKeyParts parts;
  parts.peer =
      (static_cast<uint8_t>(key[0]) << 8) | static_cast<uint8_t>(key[1]);
  absl::StatusOr<uint64_t> sequence = DecodeFixed64BE(key.substr(2, 8));
  if (!sequence.ok()) return sequence.status();
  parts.sequence = *sequence;
  for (size_t i = 10; i < kOutboxKeyBytes; ++i) {
    parts.ordinal = (parts.ordinal << 8) | static_cast<uint8_t>(key[i]);
  }
  return parts;
}

size_t EdgePrefixLength(absl::string_view key) {
  if (key.size() <= kPartitionBytes) return 0;
  const size_t end = key.find(kIdTerminator, kPartitionBytes);
  return end == absl::string_view::npos ? 0 : end + 1;
}

}  // namespace georisk::storage::internal
