#include "storage/partition_map.h"

#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "storage/internal/keys.h"

namespace georisk::storage {
namespace {

static_assert((internal::kPartitionCount >> kPartitionShift) == kPartitions,
              "a partition is a whole number of key prefixes");

constexpr absl::string_view kEncodingVersion = "v1";
constexpr absl::string_view kShardNamePrefix = "graphstore-";
constexpr uint16_t kUnowned = 0xffff;

// A non-negative decimal number of at most 9 digits, nothing else.
bool ParseNumber(absl::string_view text, int* out) {
  if (text.empty() || text.size() > 9) return false;
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return absl::SimpleAtoi(text, out);
}

// Ranges of consecutive partitions for which `in(p)` holds.
template <typename Predicate>
std::vector<PartitionRange> RangesWhere(Predicate in) {
  std::vector<PartitionRange> out;
  for (int p = 0; p < kPartitions; ++p) {
    if (!in(p)) continue;
    if (!out.empty() && out.back().last == p - 1) {
      out.back().last = p;
    } else {
      out.push_back({p, p});
    }
  }
  return out;
}

std::string RangesText(absl::Span<const PartitionRange> ranges,
                       absl::string_view separator) {
  return absl::StrJoin(ranges, separator,
                       [](std::string* out, const PartitionRange& r) {
                         if (r.first == r.last) {
                           absl::StrAppend(out, r.first);
                         } else {
                           absl::StrAppend(out, r.first, "-", r.last);
                         }
                       });
}

}  // namespace

int PartitionOf(absl::string_view id) {
  return internal::Partition(id) >> kPartitionShift;
}

std::string RecordOrder(absl::string_view id) {
  return internal::EncodeSignalKey(id);
}

uint64_t StableHash64(absl::string_view data) {
  return internal::Fnv1a64(data);
}

KeyPrefixRange KeyPrefixRangeOf(int partition) {
  const int first = partition << kPartitionShift;
  return {static_cast<uint16_t>(first),
          static_cast<uint16_t>(first + (1 << kPartitionShift) - 1)};
}

std::string FormatPartitionRanges(absl::Span<const PartitionRange> ranges) {
  if (ranges.empty()) return "none";
  return RangesText(ranges, ", ");
}

std::string ShardName(int shard) {
  return absl::StrCat(kShardNamePrefix, shard);
}

PartitionMap PartitionMap::Single() {
  return PartitionMap(1, std::vector<uint16_t>(kPartitions, 0));
}

absl::StatusOr<PartitionMap> PartitionMap::Even(int shards) {
  if (shards < 1 || shards > kMaxShards) {
    return absl::InvalidArgumentError(
        absl::StrCat("shards: must be 1 to ", kMaxShards, ", got ", shards));
  }
  std::vector<uint16_t> owner(kPartitions);
  const int base = kPartitions / shards, extra = kPartitions % shards;
  int p = 0;
  for (int s = 0; s < shards; ++s) {
    const int size = base + (s < extra ? 1 : 0);
    for (int i = 0; i < size; ++i) owner[p++] = static_cast<uint16_t>(s);
  }
  return PartitionMap(shards, std::move(owner));
}

absl::StatusOr<PartitionMap> PartitionMap::Parse(absl::string_view text) {
  std::vector<uint16_t> owner(kPartitions, kUnowned);
  // The line each partition and each shard was given on.
  std::vector<int> partition_line(kPartitions, 0);
  std::vector<int> shard_line;
  int line_number = 0;
  for (absl::string_view raw : absl::StrSplit(text, absl::ByAnyChar("\n;"))) {
    ++line_number;
    auto line_error = [line_number](auto&&... parts) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_number, ": ", parts...));
    };
    absl::string_view line = raw;
    if (size_t hash = line.find('#'); hash != absl::string_view::npos) {
      line = line.substr(0, hash);
    }
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos) {
      return line_error("expected \"<shard> = <partitions>\", got \"", line,
                        "\"");
    }
    absl::string_view name = absl::StripAsciiWhitespace(line.substr(0, eq));
    absl::string_view ranges = absl::StripAsciiWhitespace(line.substr(eq + 1));
    absl::string_view number = name;
    absl::ConsumePrefix(&number, kShardNamePrefix);
    int shard = 0;
    if (!ParseNumber(number, &shard) || shard >= kMaxShards) {
      return line_error("shard \"", name, "\": expected 0 to ", kMaxShards - 1,
                        " or graphstore-<i>");
    }
    if (shard >= static_cast<int>(shard_line.size())) {
      shard_line.resize(shard + 1, 0);
    }
    if (shard_line[shard] != 0) {
      return line_error("shard ", shard, " is listed twice (first on line ",
                        shard_line[shard], ")");
    }
    shard_line[shard] = line_number;
    if (ranges.empty()) continue;  // A shard that owns nothing yet.
    for (absl::string_view item : absl::StrSplit(ranges, ',')) {
      item = absl::StripAsciiWhitespace(item);
      int first = 0, last = 0;
      const size_t dash = item.find('-');
      bool ok = false;
      if (dash == absl::string_view::npos) {
        ok = ParseNumber(item, &first);
        last = first;
      } else {
        ok = ParseNumber(absl::StripAsciiWhitespace(item.substr(0, dash)),
                         &first) &&
             ParseNumber(absl::StripAsciiWhitespace(item.substr(dash + 1)),
                         &last);
      }
      if (!ok) {
        return line_error("shard ", shard, ": \"", item,
                          "\" is not a partition or a range a-b");
      }
      if (first > last) {
        return line_error("shard ", shard, ": range ", item,
                          " ends before it starts");
      }
      if (last >= kPartitions) {
        return line_error("partition ", last, " is out of range 0-",
                          kPartitions - 1);
      }
      for (int p = first; p <= last; ++p) {
        if (owner[p] != kUnowned) {
          return line_error("partition ", p, " is owned by both shard ",
                            owner[p], " (line ", partition_line[p],
                            ") and shard ", shard);
        }
        owner[p] = static_cast<uint16_t>(shard);
        partition_line[p] = line_number;
      }
    }
  }
  if (shard_line.empty()) {
    return absl::InvalidArgumentError("the partition map lists no shard");
  }
  for (size_t s = 0; s < shard_line.size(); ++s) {
    if (shard_line[s] == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("shard ", s, " is missing: the shards must be 0 to ",
                       shard_line.size() - 1, ", each on one line"));
    }
  }
  std::vector<PartitionRange> unowned =
      RangesWhere([&owner](int p) { return owner[p] == kUnowned; });
  if (!unowned.empty()) {
    const bool one = unowned.size() == 1 && unowned[0].first == unowned[0].last;
    return absl::InvalidArgumentError(absl::StrCat(
        one ? "partition " : "partitions ", FormatPartitionRanges(unowned),
        one ? " is owned by no shard" : " are owned by no shard"));
  }
  return PartitionMap(static_cast<int>(shard_line.size()), std::move(owner));
}

std::string PartitionMap::Encode() const {
  std::string out = absl::StrCat(kEncodingVersion, ";", kPartitions);
  for (int s = 0; s < shard_count_; ++s) {
    absl::StrAppend(&out, ";", s, "=", RangesText(RangesOf(s), ","));
  }
  return out;
}

absl::StatusOr<PartitionMap> PartitionMap::Decode(absl::string_view encoded) {
  std::vector<absl::string_view> head =
      absl::StrSplit(encoded, absl::MaxSplits(';', 2));
  auto bad = [encoded](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not a partition map encoding (", why, "): \"", encoded, "\""));
  };
  if (head.size() != 3) return bad("expected v1;<count>;<shards>");
  if (head[0] != kEncodingVersion) return bad("unknown version");
  int count = 0;
  if (!ParseNumber(head[1], &count) || count != kPartitions) {
    return bad(absl::StrCat("a map of ", head[1],
                            " partitions; this build has ", kPartitions));
  }
  absl::StatusOr<PartitionMap> map = Parse(head[2]);
  if (!map.ok()) return bad(map.status().message());
  if (map->Encode() != encoded) return bad("not canonical");
  return map;
}

std::vector<PartitionRange> PartitionMap::RangesOf(int shard) const {
  return RangesWhere([this, shard](int p) { return owner_[p] == shard; });
}

std::vector<PartitionRange> OrphanedPartitions(const PartitionMap& recorded,
                                               const PartitionMap& given,
                                               int shard) {
  return OrphanedPartitions(recorded, shard, given, shard);
}

std::vector<PartitionRange> OrphanedPartitions(const PartitionMap& recorded,
                                               int recorded_shard,
                                               const PartitionMap& given,
                                               int given_shard) {
  return RangesWhere([&](int p) {
    return recorded.ShardOf(p) == recorded_shard &&
           given.ShardOf(p) != given_shard;
  });
}

absl::StatusOr<PartitionMap> PartitionMapFromFlags(
    const std::string& inline_text, const std::string& file) {
  if (!inline_text.empty() && !file.empty()) {
    return absl::InvalidArgumentError(
        "--partition_map and --partition_map_file: give one of them, not "
        "both");
  }
  if (!inline_text.empty()) {
    absl::StatusOr<PartitionMap> map = PartitionMap::Parse(inline_text);
    if (!map.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--partition_map: ", map.status().message()));
    }
    return map;
  }
  if (file.empty()) return PartitionMap::Single();
  std::ifstream in(file);
  std::stringstream text;
  if (in) text << in.rdbuf();
  if (!in || in.bad()) {
    return absl::NotFoundError(
        absl::StrCat("--partition_map_file: cannot read ", file));
  }
  absl::StatusOr<PartitionMap> map = PartitionMap::Parse(text.str());
  if (!map.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--partition_map_file ", file, ": ", map.status().message()));
  }
  return map;
}

}  // namespace georisk::storage
