#include "services/graphstore/routed_paging.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "storage/partition_map.h"

namespace georisk::graphstore {
namespace {

// Distinct from the store's own token version (1), so that a shard's token
// given to the router, or the router's to a shard, is refused as malformed.
constexpr char kRoutedTokenVersion = 'R';
constexpr size_t kChecksumBytes = 4;

void AppendUint32(uint32_t v, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

void AppendBytes(absl::string_view bytes, std::string* out) {
  AppendUint32(static_cast<uint32_t>(bytes.size()), out);
  out->append(bytes.data(), bytes.size());
}

uint32_t Checksum(absl::string_view payload) {
  return static_cast<uint32_t>(storage::StableHash64(payload));
}

// Reads from the front of `in`; false when it is too short.
bool ReadUint32(absl::string_view* in, uint32_t* v) {
  if (in->size() < 4) return false;
  *v = 0;
  for (int i = 0; i < 4; ++i) {
    *v = (*v << 8) | static_cast<uint8_t>((*in)[i]);
  }
  in->remove_prefix(4);
  return true;
}

bool ReadBytes(absl::string_view* in, std::string* out) {
  uint32_t size;
  if (!ReadUint32(in, &size) || in->size() < size) return false;
  out->assign(in->data(), size);
  in->remove_prefix(size);
  return true;
}

absl::Status Malformed() {
  return absl::InvalidArgumentError("page_token: malformed");
}

}  // namespace

std::vector<ShardPosition> FirstPositions(int shard_count) {
  std::vector<ShardPosition> out(shard_count);
  for (int i = 0; i < shard_count; ++i) out[i].shard = i;
  return out;
}

std::string EncodeRoutedToken(RoutedListing listing, int shard_count,
                              const std::vector<ShardPosition>& positions,
                              absl::string_view query) {
  std::string payload;
  payload.push_back(kRoutedTokenVersion);
  payload.push_back(static_cast<char>(listing));
  if (!query.empty()) AppendBytes(query, &payload);
  AppendUint32(static_cast<uint32_t>(shard_count), &payload);
  AppendUint32(static_cast<uint32_t>(positions.size()), &payload);
  for (const ShardPosition& p : positions) {
    AppendUint32(static_cast<uint32_t>(p.shard), &payload);
    AppendBytes(p.page_token, &payload);
    AppendBytes(p.after, &payload);
  }
  AppendUint32(Checksum(payload), &payload);
  return absl::WebSafeBase64Escape(payload);
}

absl::StatusOr<std::vector<ShardPosition>> DecodeRoutedToken(
    absl::string_view token, RoutedListing listing, int shard_count,
    absl::string_view query) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw) ||
      raw.size() < 2 + kChecksumBytes) {
    return Malformed();
  }
  absl::string_view payload(raw.data(), raw.size() - kChecksumBytes);
  absl::string_view sum = absl::string_view(raw).substr(payload.size());
  uint32_t want;
  if (!ReadUint32(&sum, &want) || want != Checksum(payload) ||
      payload[0] != kRoutedTokenVersion) {
    return Malformed();
  }
  if (payload[1] != static_cast<char>(listing)) {
    return absl::InvalidArgumentError(
        "page_token: does not belong to this query");
  }
  absl::string_view in = payload.substr(2);
  if (!query.empty()) {
    std::string issued_for;
    if (!ReadBytes(&in, &issued_for)) return Malformed();
    if (issued_for != query) {
      return absl::InvalidArgumentError("page_token: belongs to other filters");
    }
  }
  uint32_t shards, count;
  if (!ReadUint32(&in, &shards) || !ReadUint32(&in, &count)) {
    return Malformed();
  }
  if (shards != static_cast<uint32_t>(shard_count)) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_token: was issued by a router over ", shards,
                     " shards, this one routes to ", shard_count));
  }
  if (count == 0 || count > shards) return Malformed();
  std::vector<ShardPosition> out(count);
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t shard;
    if (!ReadUint32(&in, &shard) || shard >= shards ||
        (i > 0 && static_cast<int>(shard) <= out[i - 1].shard) ||
        !ReadBytes(&in, &out[i].page_token) || !ReadBytes(&in, &out[i].after)) {
      return Malformed();
    }
    out[i].shard = static_cast<int>(shard);
  }
  if (!in.empty()) return Malformed();
  return out;
}

}  // namespace georisk::graphstore
