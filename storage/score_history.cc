#include "storage/score_history.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <optional>
#include <utility>

#include "absl/base/internal/endian.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/proto_time.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "storage/internal/info_log.h"
#include "storage/internal/rocksdb_util.h"

namespace georisk::storage {
namespace {

using internal::ToAbslStatus;

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;
constexpr size_t kSuffixSize = 16;  // time + sequence.

uint64_t TimeBits(absl::Time t) {
  int64_t micros = absl::ToUnixMicros(t);
  return static_cast<uint64_t>(micros) ^ (uint64_t{1} << 63);
}

void PutBigEndian(uint64_t v, std::string* out) {
  char buf[8];
  absl::big_endian::Store64(buf, v);
  out->append(buf, 8);
}

std::string EntityPrefix(const std::string& entity_id) {
  return absl::StrCat(entity_id, absl::string_view("\0", 1));
}

std::string PointKey(const std::string& entity_id, uint64_t time_bits,
                     uint64_t sequence) {
  std::string key = EntityPrefix(entity_id);
  PutBigEndian(time_bits, &key);
  PutBigEndian(sequence, &key);
  return key;
}

std::string PointKey(const std::string& entity_id,
                     const v1::ScoreHistoryPoint& p) {
  return PointKey(entity_id, TimeBits(base::FromProtoTime(p.time())),
                  static_cast<uint64_t>(p.graph_sequence()));
}

// The entity id of a key (everything before the NUL).
absl::string_view KeyEntity(const rocksdb::Slice& key) {
  absl::string_view k(key.data(), key.size());
  return k.substr(0,
                  k.size() >= kSuffixSize + 1 ? k.size() - kSuffixSize - 1 : 0);
}

// Page tokens: web-safe base64 of "h" + the 16-byte key suffix of the last
// point returned.
std::string EncodeToken(const rocksdb::Slice& key) {
  absl::string_view k(key.data(), key.size());
  return absl::WebSafeBase64Escape(
      absl::StrCat("h", k.substr(k.size() - kSuffixSize)));
}

absl::StatusOr<std::string> DecodeToken(const std::string& token) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw) ||
      raw.size() != kSuffixSize + 1 || raw[0] != 'h') {
    return absl::InvalidArgumentError("page_token: malformed");
  }
  return raw.substr(1);
}

double FactorValue(const v1::ScoreHistoryPoint& p, v1::Factor f) {
  for (const v1::FactorScore& s : p.factors()) {
    if (s.factor() == f) return s.propagated();
  }
  return 0;
}

absl::Status ParsePoint(const rocksdb::Slice& value,
                        v1::ScoreHistoryPoint* out) {
  if (!out->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::DataLossError("score history: unreadable point");
  }
  return absl::OkStatus();
}

}  // namespace

double ScoreHistoryMove(const v1::ScoreHistoryPoint& a,
                        const v1::ScoreHistoryPoint& b, v1::Factor* factor) {
  double best = std::abs(b.composite() - a.composite());
  v1::Factor which = v1::FACTOR_UNSPECIFIED;
  auto consider = [&](v1::Factor f) {
    double move = 100 * std::abs(FactorValue(b, f) - FactorValue(a, f));
    if (move > best) {
      best = move;
      which = f;
    }
  };
  for (const v1::FactorScore& s : a.factors()) consider(s.factor());
  for (const v1::FactorScore& s : b.factors()) consider(s.factor());
  if (factor != nullptr) *factor = which;
  return best;
}

struct ScoreHistory::Db {
  std::unique_ptr<rocksdb::DB> db;
};

ScoreHistory::ScoreHistory(ScoreHistoryOptions options, std::unique_ptr<Db> db)
    : options_(std::move(options)), db_(std::move(db)) {}

ScoreHistory::~ScoreHistory() = default;

absl::StatusOr<std::unique_ptr<ScoreHistory>> ScoreHistory::Open(
    const ScoreHistoryOptions& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("score history: path is required");
  }
  if (!(options.min_delta >= 0)) {
    return absl::InvalidArgumentError("score history: min_delta must be >= 0");
  }
  if (options.max_points_per_entity < 1) {
    return absl::InvalidArgumentError(
        "score history: max_points_per_entity must be >= 1");
  }
  if (options.max_age <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("score history: max_age must be > 0");
  }
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  absl::StatusOr<std::shared_ptr<rocksdb::Logger>> info_log =
      internal::OpenInfoLog(options.path, rocksdb::InfoLogLevel::INFO_LEVEL);
  if (!info_log.ok()) return info_log.status();
  db_options.info_log = *std::move(info_log);
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, &raw);
  if (!s.ok()) {
    return ToAbslStatus(s,
                        absl::StrCat("opening score history ", options.path));
  }
  auto db = std::make_unique<Db>();
  db->db.reset(raw);
  return std::unique_ptr<ScoreHistory>(
      new ScoreHistory(options, std::move(db)));
}

namespace {

// The entity's last point through `it` (one iterator serves a whole batch:
// making one per entity cost more than the seek); false when it has none.
absl::StatusOr<bool> LastPoint(rocksdb::Iterator* it,
                               const std::string& entity_id,
                               v1::ScoreHistoryPoint* out) {
  std::string prefix = EntityPrefix(entity_id);
  std::string end = PointKey(entity_id, ~uint64_t{0}, ~uint64_t{0});
  it->SeekForPrev(end);
  if (!it->status().ok()) return ToAbslStatus(it->status(), "reading history");
  if (!it->Valid() || !it->key().starts_with(prefix) ||
      KeyEntity(it->key()) != entity_id) {
    return false;
  }
  absl::Status parsed = ParsePoint(it->value(), out);
  if (!parsed.ok()) return parsed;
  return true;
}

}  // namespace

ScoreHistory::Newest ScoreHistory::NewestOf(const v1::ScoreHistoryPoint& p) {
  Newest n;
  n.time_bits = TimeBits(base::FromProtoTime(p.time()));
  n.sequence = static_cast<uint64_t>(p.graph_sequence());
  n.composite = p.composite();
  n.deleted = p.deleted();
  for (const v1::FactorScore& f : p.factors()) {
    n.factors.emplace_back(f.factor(), f.propagated());
  }
  return n;
}

v1::ScoreHistoryPoint ScoreHistory::PointOf(const Newest& n) {
  v1::ScoreHistoryPoint p;
  p.set_composite(n.composite);
  p.set_deleted(n.deleted);
  for (const auto& [factor, propagated] : n.factors) {
    v1::FactorScore* f = p.add_factors();
    f->set_factor(factor);
    f->set_propagated(propagated);
  }
  return p;
}

int64_t ScoreHistory::cached_entities() const {
  absl::MutexLock lock(&write_mu_);
  return static_cast<int64_t>(newest_.size());
}

absl::StatusOr<int> ScoreHistory::Record(
    const std::vector<std::pair<std::string, v1::ScoreHistoryPoint>>& points,
    const ReasonFn& reason) {
  absl::MutexLock lock(&write_mu_);
  rocksdb::WriteBatch batch;
  // The last point of each entity, including those of this batch.
  absl::flat_hash_map<std::string, v1::ScoreHistoryPoint> last;
  // Each entity's newest stored point once this batch is written (nullopt:
  // none), for newest_.
  absl::flat_hash_map<std::string, std::optional<Newest>> newest;
  auto later = [](const Newest& a, const Newest& b) {
    return std::make_pair(a.time_bits, a.sequence) >
           std::make_pair(b.time_bits, b.sequence);
  };
  std::unique_ptr<rocksdb::Iterator> it;
  int written = 0;
  for (const auto& [entity_id, candidate] : points) {
    if (entity_id.empty() || entity_id.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("score history: bad entity id \"",
                       absl::CHexEscape(entity_id), "\""));
    }
    auto found = last.find(entity_id);
    v1::ScoreHistoryPoint previous;
    bool has_previous = false;
    if (found != last.end()) {
      previous = found->second;
      has_previous = true;
    } else if (auto cached = newest_.find(entity_id); cached != newest_.end()) {
      previous = PointOf(cached->second);
      has_previous = true;
      newest[entity_id] = cached->second;
    } else {
      if (it == nullptr) {
        it.reset(db_->db->NewIterator(rocksdb::ReadOptions()));
      }
      absl::StatusOr<bool> l = LastPoint(it.get(), entity_id, &previous);
      if (!l.ok()) return l.status();
      has_previous = *l;
      newest[entity_id] = has_previous
                              ? std::optional<Newest>(NewestOf(previous))
                              : std::nullopt;
    }
    v1::Factor moved = v1::FACTOR_UNSPECIFIED;
    bool keep;
    if (!has_previous) {
      keep = true;
    } else if (candidate.deleted() || previous.deleted()) {
      keep = candidate.deleted() != previous.deleted();
    } else {
      keep = ScoreHistoryMove(previous, candidate, &moved) > options_.min_delta;
    }
    if (!keep) continue;
    v1::ScoreHistoryPoint point = candidate;
    if (!point.deleted() && point.reason().empty() && reason) {
      point.set_reason(reason(entity_id, moved));
    }
    batch.Put(PointKey(entity_id, point), point.SerializeAsString());
    // The newest stored is the greatest key, not the last written: a point
    // with an earlier time (the clock went back) does not replace it.
    std::optional<Newest>& n = newest[entity_id];
    Newest mine = NewestOf(point);
    if (!n.has_value() || !later(*n, mine)) n = std::move(mine);
    last[entity_id] = std::move(point);
    ++written;
  }
  if (written > 0) {
    rocksdb::WriteOptions write_options;
    write_options.sync = options_.sync;
    rocksdb::Status s = db_->db->Write(write_options, &batch);
    if (!s.ok()) return ToAbslStatus(s, "writing score history");
  }
  // What the store now holds, for the next calls (room permitting).
  for (auto& [entity_id, n] : newest) {
    if (!n.has_value()) continue;
    auto cached = newest_.find(entity_id);
    if (cached != newest_.end()) {
      cached->second = *std::move(n);
    } else if (static_cast<int64_t>(newest_.size()) <
               options_.last_point_cache_entries) {
      newest_.emplace(entity_id, *std::move(n));
    }
  }
  return written;
}

absl::StatusOr<ScoreHistoryPage> ScoreHistory::Query(
    const std::string& entity_id, const ScoreHistoryQuery& query, int page_size,
    const std::string& page_token) const {
  if (page_size < 0) {
    return absl::InvalidArgumentError("page_size: must be >= 0");
  }
  int limit =
      page_size == 0 ? kDefaultPageSize : std::min(page_size, kMaxPageSize);
  std::string prefix = EntityPrefix(entity_id);
  std::string start;
  bool after_start = false;  // Skip the key equal to `start` (a token).
  if (!page_token.empty()) {
    absl::StatusOr<std::string> suffix = DecodeToken(page_token);
    if (!suffix.ok()) return suffix.status();
    start = prefix + *suffix;
    after_start = true;
  } else {
    start = PointKey(
        entity_id,
        query.from == absl::InfinitePast() ? 0 : TimeBits(query.from), 0);
  }
  uint64_t to_bits =
      query.to == absl::InfiniteFuture() ? ~uint64_t{0} : TimeBits(query.to);
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db->NewIterator(rocksdb::ReadOptions()));
  // Whether the entity has any point at all.
  it->Seek(prefix);
  if (!it->status().ok()) return ToAbslStatus(it->status(), "reading history");
  if (!it->Valid() || !it->key().starts_with(prefix) ||
      KeyEntity(it->key()) != entity_id) {
    return absl::NotFoundError(
        absl::StrCat("no score history for ", entity_id));
  }
  // The point before `start`, to judge the factor's move of the first.
  v1::ScoreHistoryPoint previous;
  bool has_previous = false;
  if (query.factor != v1::FACTOR_UNSPECIFIED) {
    it->SeekForPrev(start);
    if (it->Valid() && it->key().starts_with(prefix) &&
        KeyEntity(it->key()) == entity_id && it->key() != start) {
      absl::Status parsed = ParsePoint(it->value(), &previous);
      if (!parsed.ok()) return parsed;
      has_previous = true;
    }
  }
  ScoreHistoryPage page;
  for (it->Seek(start); it->Valid(); it->Next()) {
    if (!it->key().starts_with(prefix) || KeyEntity(it->key()) != entity_id) {
      break;
    }
    if (after_start && it->key() == start) continue;
    absl::string_view suffix(it->key().data() + prefix.size(), kSuffixSize);
    if (absl::big_endian::Load64(suffix.data()) >= to_bits) break;
    if (static_cast<int>(page.points.size()) == limit) {
      // One more matching point may follow: the token resumes after the
      // last one returned (only set when there is a next point in range).
      break;
    }
    v1::ScoreHistoryPoint point;
    absl::Status parsed = ParsePoint(it->value(), &point);
    if (!parsed.ok()) return parsed;
    bool match = true;
    if (query.factor != v1::FACTOR_UNSPECIFIED) {
      double before = has_previous ? FactorValue(previous, query.factor) : 0;
      match = !has_previous || point.deleted() != previous.deleted() ||
              100 * std::abs(FactorValue(point, query.factor) - before) >
                  options_.min_delta;
      previous = point;
      has_previous = true;
    }
    if (!match) continue;
    page.points.push_back(std::move(point));
    if (static_cast<int>(page.points.size()) == limit) {
      page.next_page_token = EncodeToken(it->key());
    }
  }
  if (!it->status().ok()) return ToAbslStatus(it->status(), "reading history");
  // A token set on the last point of the range with nothing after it: the
  // loop ended by the range or the entity, not by the limit.
  if (!page.next_page_token.empty() &&
      (!it->Valid() || !it->key().starts_with(prefix) ||
       KeyEntity(it->key()) != entity_id ||
       absl::big_endian::Load64(it->key().data() + prefix.size()) >= to_bits)) {
    page.next_page_token.clear();
  }
  return page;
}

absl::StatusOr<v1::ScoreHistoryPoint> ScoreHistory::AsOf(
    const std::string& entity_id, absl::Time time) const {
  std::string prefix = EntityPrefix(entity_id);
  std::string end = PointKey(entity_id, TimeBits(time), ~uint64_t{0});
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db->NewIterator(rocksdb::ReadOptions()));
  it->SeekForPrev(end);
  if (!it->status().ok()) return ToAbslStatus(it->status(), "reading history");
  if (!it->Valid() || !it->key().starts_with(prefix) ||
      KeyEntity(it->key()) != entity_id) {
    return absl::NotFoundError(
        absl::StrCat("no score history for ", entity_id, " at or before ",
                     absl::FormatTime(time, absl::UTCTimeZone())));
  }
  v1::ScoreHistoryPoint point;
  absl::Status parsed = ParsePoint(it->value(), &point);
  if (!parsed.ok()) return parsed;
  return point;
}

absl::StatusOr<bool> ScoreHistory::Empty() const {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db->NewIterator(rocksdb::ReadOptions()));
  it->SeekToFirst();
  if (!it->status().ok()) return ToAbslStatus(it->status(), "reading history");
  return !it->Valid();
}

absl::StatusOr<int64_t> ScoreHistory::Trim(absl::Time now) {
  absl::MutexLock lock(&write_mu_);
  // Trimming may drop an entity's newest point (older than max_age): the
  // next Record() reads the store again.
  newest_.clear();
  const uint64_t cutoff = TimeBits(now - options_.max_age);
  const size_t keep = static_cast<size_t>(options_.max_points_per_entity);
  rocksdb::WriteBatch batch;
  int64_t dropped = 0;
  std::string entity;
  std::deque<std::string> kept;  // The current entity's newest keys so far.
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    absl::string_view e = KeyEntity(it->key());
    if (e != entity) {
      entity = std::string(e);
      kept.clear();
    }
    absl::string_view k(it->key().data(), it->key().size());
    uint64_t time_bits =
        absl::big_endian::Load64(k.data() + k.size() - kSuffixSize);
    if (time_bits < cutoff) {
      batch.Delete(it->key());
      ++dropped;
      continue;
    }
    kept.emplace_back(k);
    if (kept.size() > keep) {
      batch.Delete(kept.front());
      kept.pop_front();
      ++dropped;
    }
  }
  if (!it->status().ok()) return ToAbslStatus(it->status(), "trimming history");
  if (dropped == 0) return 0;
  rocksdb::WriteOptions write_options;
  write_options.sync = options_.sync;
  rocksdb::Status s = db_->db->Write(write_options, &batch);
  if (!s.ok()) return ToAbslStatus(s, "trimming score history");
  return dropped;
}

}  // namespace georisk::storage
