// File: storage/internal/keys.h
//
// The byte layout of every RocksDB key the graph store writes. docs/storage.md
// describes the same layout with worked examples; keep the two in step.
//
//   partition(id)  = 2 bytes, big-endian: FNV-1a 64 of the id, xor-folded to
//                    16 bits (see Partition()).
//   entities       : partition(id) | id
//   out_edges      : partition(from) | from | 0x00 | kind | to | 0x00 |
//                    product [| 0x00 | record_id]
//   in_edges       : partition(to)   | to   | 0x00 | kind | from | 0x00 |
//                    product [| 0x00 | record_id]
//   signals        : partition(id) | id
//   changelog      : sequence, 8 bytes big-endian
//   idempotency    : the idempotency key, raw
//   outbox         : peer shard, 2 bytes big-endian | sequence, 8 bytes
//                    big-endian | ordinal in the commit, 4 bytes big-endian
//   meta           : fixed ASCII names (kMeta* below)
//
// Ids, product codes and record ids never contain 0x00 (validation
// guarantees it), so the 0x00 after an id ends it: "company/a" 0x00 sorts
// before, and never matches the prefix of, "company/ab" 0x00. The
// `0x00 | record_id` part is present only when the edge has a record_id
// (schema version 2): an edge without one has exactly the version-1 key, and
// the records of one (from, kind, to, product) pair are contiguous, the one
// without a record_id first.
//
// Example:
//
//   std::string key = EncodeOutEdgeKey("company/tsmc", v1::Edge::SUPPLIES,
//                                      "company/apple", "8542");
//   // One dated record of an ownership pair:
//   std::string owns = EncodeOutEdgeKey({"person/x", v1::Edge::OWNS,
//                                        "company/y", "", "ru-dfe0a021"});
//   absl::StatusOr<EdgeKeyParts> parts = DecodeOutEdgeKey(key);
//   // parts->from_id == "company/tsmc", parts->kind == v1::Edge::SUPPLIES...
//
//   // Every out-edge of company/tsmc, in kind order:
//   std::string prefix = EdgePrefix("company/tsmc");
//
// Thread-safe: every function here is pure.
#ifndef GEORISK_STORAGE_INTERNAL_KEYS_H_
#define GEORISK_STORAGE_INTERNAL_KEYS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "georisk/v1/graph.pb.h"

namespace georisk::storage::internal {

// Length of the partition prefix of entity, edge and signal keys.
inline constexpr size_t kPartitionBytes = 2;
// Number of partitions.
inline constexpr int kPartitionCount = 65536;
// Length of a change-log key.
inline constexpr size_t kSequenceKeyBytes = 8;
// Ends an id inside an edge key.
inline constexpr char kIdTerminator = '\0';

// Names of the `meta` column family's keys. Values are 8-byte big-endian
// unsigned integers (EncodeFixed64BE).
inline constexpr absl::string_view kMetaSchemaVersion = "schema_version";
inline constexpr absl::string_view kMetaLastSequence = "last_sequence";
inline constexpr absl::string_view kMetaChangeLogStart = "changelog_start";
inline constexpr absl::string_view kMetaEntityCount = "entity_count";
inline constexpr absl::string_view kMetaEdgeCount = "edge_count";
inline constexpr absl::string_view kMetaSignalCount = "signal_count";
// Links, each counted once (not per copy).
inline constexpr absl::string_view kMetaLinkCount = "link_count";
// The graph's identity: 32 lowercase hex characters (128 random bits), minted
// when the database is created. Unlike the keys above, its value is ASCII.
inline constexpr absl::string_view kMetaGraphId = "graph_id";
// The partition map the database is written under (PartitionMap::Encode(),
// ASCII) and this shard's index in it (8 bytes big-endian); both written
// together by internal::RecordShard (docs/scale-out.md).
inline constexpr absl::string_view kMetaPartitionMap = "partition_map";
inline constexpr absl::string_view kMetaShardIndex = "shard_index";
// The partitions a partition move took out of this database
// (storage/partition_move.h): a bitmap, shard_record.h.
inline constexpr absl::string_view kMetaMovedOut = "partitions_moved_out";

// FNV-1a, 64 bits (offset basis 0xcbf29ce484222325, prime 0x100000001b3),
// over the bytes of `data`. Platform-independent and stable forever: keys on
// disk depend on it.
uint64_t Fnv1a64(absl::string_view data);

// The partition of an entity or signal id: Fnv1a64(id) xor-folded to 16 bits,
// (h ^ h >> 16 ^ h >> 32 ^ h >> 48) & 0xffff, i.e. the hash mod 65536 after
// folding so every bit of the hash counts.
uint16_t Partition(absl::string_view id);

// 8-byte big-endian encoding of `value`, and its inverse. DecodeFixed64BE
// returns InvalidArgument unless `bytes` is exactly 8 bytes long.
std::string EncodeFixed64BE(uint64_t value);
absl::StatusOr<uint64_t> DecodeFixed64BE(absl::string_view bytes);

// partition(id) | id: the key of an entity in `entities` or of a signal in
// `signals`.
std::string EncodeEntityKey(absl::string_view id);
std::string EncodeSignalKey(absl::string_view id);
// Inverse of both: checks the partition against the id.
absl::StatusOr<std::string> DecodeRecordKey(absl::string_view key);

// The parts of an edge key, whichever copy it comes from.
struct EdgeKeyParts {
  std::string from_id;
  v1::Edge::Kind kind = v1::Edge::KIND_UNSPECIFIED;
  std::string to_id;
  std::string product_code;
  // Empty for the pair's record without a record_id (Edge.record_id).
  std::string record_id;

  friend bool operator==(const EdgeKeyParts& a, const EdgeKeyParts& b) {
    return a.from_id == b.from_id && a.kind == b.kind && a.to_id == b.to_id &&
           a.product_code == b.product_code && a.record_id == b.record_id;
  }
};

// The key parts of an edge, or of the EdgeKey naming one.
EdgeKeyParts PartsOf(const v1::Edge& edge);
EdgeKeyParts PartsOf(const v1::EdgeKey& key);
// The EdgeKey naming the edge with these parts.
v1::EdgeKey ToEdgeKey(const EdgeKeyParts& parts);

// Keys of the two copies of an edge. An empty `record_id` gives the
// version-1 key (nothing after the product code).
std::string EncodeOutEdgeKey(absl::string_view from_id, v1::Edge::Kind kind,
                             absl::string_view to_id,
                             absl::string_view product_code,
                             absl::string_view record_id = "");
std::string EncodeInEdgeKey(absl::string_view from_id, v1::Edge::Kind kind,
                            absl::string_view to_id,
                            absl::string_view product_code,
                            absl::string_view record_id = "");
std::string EncodeOutEdgeKey(const EdgeKeyParts& parts);
std::string EncodeInEdgeKey(const EdgeKeyParts& parts);

// Decoders. InvalidArgument when the key is malformed: too short, a missing
// terminator, an unknown kind byte, a partition that does not match the id,
// an empty record id after a third 0x00, or a 0x00 in the record id.
absl::StatusOr<EdgeKeyParts> DecodeOutEdgeKey(absl::string_view key);
absl::StatusOr<EdgeKeyParts> DecodeInEdgeKey(absl::string_view key);

// partition(id) | id | 0x00: the common prefix of every edge key stored under
// `id` (its out-edges in `out_edges`, its in-edges in `in_edges`), and the
// prefix the prefix extractor of the edge column families returns.
std::string EdgePrefix(absl::string_view id);
// EdgePrefix(id) | kind: the edges of one kind.
std::string EdgeKindPrefix(absl::string_view id, v1::Edge::Kind kind);

// Keys of the `links` column family: one copy of each link under each of its
// entities, partition(owner) | owner | 0x00 | other, both valued by the same
// Link record (entity_a < entity_b). LinkPrefix(id) (= EdgePrefix(id)) is
// the prefix of every link of `id`, and what the column family's prefix
// extractor returns.
std::string EncodeLinkKey(absl::string_view owner_id,
                          absl::string_view other_id);
std::string LinkPrefix(absl::string_view id);
struct LinkKeyParts {
  std::string owner_id;
  std::string other_id;
};
// InvalidArgument when the key is malformed (too short, no terminator, an
// empty id, a partition that does not match the owner).
absl::StatusOr<LinkKeyParts> DecodeLinkKey(absl::string_view key);

// The smallest string greater than every string that starts with `prefix`,
// for iterate_upper_bound; empty when there is none (all bytes 0xff).
std::string PrefixSuccessor(absl::string_view prefix);

// The change-log key of `sequence`, and its inverse (InvalidArgument unless
// 8 bytes).
std::string EncodeChangeLogKey(uint64_t sequence);
absl::StatusOr<uint64_t> DecodeChangeLogKey(absl::string_view key);

// The outbox key of the `ordinal`-th entry that commit `sequence` wrote for
// shard `peer` (0..65535), and its inverse (InvalidArgument unless 14 bytes).
// Keys of one peer are contiguous and in commit order.
inline constexpr size_t kOutboxKeyBytes = 14;
std::string EncodeOutboxKey(int peer, uint64_t sequence, uint32_t ordinal);
struct OutboxKeyParts {
  int peer = 0;
  uint64_t sequence = 0;
  uint32_t ordinal = 0;
};
absl::StatusOr<OutboxKeyParts> DecodeOutboxKey(absl::string_view key);
// The 2-byte prefix of every outbox key of `peer`.
std::string OutboxPeerPrefix(int peer);

// Length of the edge prefix of `key` (partition | id | 0x00), or 0 when `key`
// has no 0x00 after its partition. Used by the prefix extractor.
size_t EdgePrefixLength(absl::string_view key);

}  // namespace georisk::storage::internal

#endif  // GEORISK_STORAGE_INTERNAL_KEYS_H_
