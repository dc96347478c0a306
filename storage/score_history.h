// File: storage/score_history.h
//
// ScoreHistory: the scorer's durable timeline of every entity's score
// (georisk.v1.ScoreHistoryPoint), in its own RocksDB beside the mirror and
// the alert log. A point is kept only when the composite or a factor's
// propagated score (scaled by 100) moved by more than `min_delta` since the
// entity's last point; retention drops points older than `max_age` and all
// but the newest `max_points_per_entity` of each entity (Trim(), with the
// caller's clock). docs/storage.md gives the key layout and the disk bound.
//
//   auto h = ScoreHistory::Open({.path = dir + "/history"});
//   (*h)->Record({{"company/a", point}}, reason_fn);   // scorer's feed thread
//   absl::StatusOr<ScoreHistoryPage> page =
//       (*h)->Query("company/a", {}, 100, "");
//   absl::StatusOr<v1::ScoreHistoryPoint> then = (*h)->AsOf("company/a", t);
//   (*h)->Trim(clock());
//
// Layout: default column family, key = entity_id + '\0' + 8-byte big-endian
// time (microseconds since the epoch, offset by 2^63) + 8-byte big-endian
// graph sequence; value = the serialized point. An entity's points are
// contiguous and oldest first.
//
// Thread safety: all methods are thread-safe; Record and Trim are serialised.
#ifndef GEORISK_STORAGE_SCORE_HISTORY_H_
#define GEORISK_STORAGE_SCORE_HISTORY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "georisk/v1/score.pb.h"

namespace georisk::storage {

struct ScoreHistoryOptions {
  // Required. The database directory; created when missing.
  std::string path;
  // A point is recorded when the composite (0..100) or any factor's
  // propagated score x 100 moved by more than this since the entity's last
  // point. Default 0.5 points. A deletion is always recorded.
  double min_delta = 0.5;
  // Trim() drops points older than this. Default 400 days.
  absl::Duration max_age = absl::Hours(24 * 400);
  // Trim() keeps at most this many points per entity, the newest. Default
  // 1,000.
  int max_points_per_entity = 1000;
  // fsync each Record. Default false: the history follows the scores, which
  // the scorer recomputes from its mirror after a crash; a point lost with
  // the machine is a gap, never a wrong point.
  bool sync = false;
  // Record() compares each candidate with the entity's newest stored point.
  // The newest points of up to this many entities are kept in memory (the
  // values compared: composite, factors, deleted; about 130 bytes an
  // entity), so that a change moving many scores does not seek RocksDB for
  // each (SeekForPrev on the memtable was 43% of the scorer's feed thread in
  // the signal-to-alert bench, BENCHMARKS.md). Past it, entities not yet
  // cached are looked up as before. 0: no cache. Default 2,097,152.
  int64_t last_point_cache_entries = int64_t{1} << 21;
};

struct ScoreHistoryQuery {
  // [from, to) on the points' times; InfinitePast/InfiniteFuture: unbounded.
  absl::Time from = absl::InfinitePast();
  absl::Time to = absl::InfiniteFuture();
  // Only points where this factor moved by more than min_delta since the
  // previous point; FACTOR_UNSPECIFIED: all points.
  v1::Factor factor = v1::FACTOR_UNSPECIFIED;
};

struct ScoreHistoryPage {
  std::vector<v1::ScoreHistoryPoint> points;  // Oldest first.
  std::string next_page_token;                // Empty on the last page.
};

class ScoreHistory {
 public:
  // The reason of a move, computed only for points about to be written:
  // (entity id, the factor that moved most; FACTOR_UNSPECIFIED when only
  // the composite moved or the entity is new).
  using ReasonFn =
      std::function<std::string(const std::string& entity_id, v1::Factor)>;

  // Errors: INVALID_ARGUMENT (empty path, min_delta < 0, max_points < 1,
  // max_age <= 0), UNAVAILABLE (locked by another process), INTERNAL.
  static absl::StatusOr<std::unique_ptr<ScoreHistory>> Open(
      const ScoreHistoryOptions& options);
  ~ScoreHistory();
  ScoreHistory(const ScoreHistory&) = delete;
  ScoreHistory& operator=(const ScoreHistory&) = delete;

  // Appends each (entity id, point) whose move beyond min_delta since the
  // entity's last point makes it a point (its first point always does; a
  // deleted point always does, unless the last point is deleted too),
  // filling its reason from `reason` (may be null). One atomic WriteBatch.
  // Returns the number of points written. Errors: INVALID_ARGUMENT (an
  // empty entity id or one with a NUL), INTERNAL/RESOURCE_EXHAUSTED (the
  // write failed; nothing written).
  absl::StatusOr<int> Record(
      const std::vector<std::pair<std::string, v1::ScoreHistoryPoint>>& points,
      const ReasonFn& reason);

  // The entity's points matching `query`, oldest first, `page_size` at most
  // (0: 100; above 1,000: 1,000). NOT_FOUND when the entity has no point at
  // all; INVALID_ARGUMENT for a negative page_size ("page_size") or a bad
  // token ("page_token").
  absl::StatusOr<ScoreHistoryPage> Query(const std::string& entity_id,
                                         const ScoreHistoryQuery& query,
                                         int page_size,
                                         const std::string& page_token) const;

  // The last point at or before `time`. NOT_FOUND when there is none.
  absl::StatusOr<v1::ScoreHistoryPoint> AsOf(const std::string& entity_id,
                                             absl::Time time) const;

  // True when the store holds no point (a new or lost history).
  absl::StatusOr<bool> Empty() const;

  // Applies the retention at `now`: drops points older than now - max_age
  // and each entity's oldest beyond max_points_per_entity. Returns the
  // number of points dropped.
  absl::StatusOr<int64_t> Trim(absl::Time now);

  // Entities whose newest point is held in memory (for tests and metrics).
  int64_t cached_entities() const;

 private:
  struct Db;
  // What Record() compares with: the entity's newest stored point (the
  // greatest key suffix), its values only.
  struct Newest {
    uint64_t time_bits = 0;
    uint64_t sequence = 0;
    double composite = 0;
    bool deleted = false;
    absl::InlinedVector<std::pair<v1::Factor, double>, 3> factors;
  };
  static Newest NewestOf(const v1::ScoreHistoryPoint& p);
  static v1::ScoreHistoryPoint PointOf(const Newest& n);

  ScoreHistory(ScoreHistoryOptions options, std::unique_ptr<Db> db);

  const ScoreHistoryOptions options_;
  mutable absl::Mutex write_mu_;  // Serialises Record() and Trim().
  std::unique_ptr<Db> db_;
  // By entity id: its newest point, exactly as stored (cleared by Trim).
  absl::flat_hash_map<std::string, Newest> newest_ ABSL_GUARDED_BY(write_mu_);
};

// How far `b` moved from `a`: the largest of the composite's move and each
// factor's propagated move x 100; *factor (may be null) gets the factor that
// moved most, FACTOR_UNSPECIFIED when the composite did.
double ScoreHistoryMove(const v1::ScoreHistoryPoint& a,
                        const v1::ScoreHistoryPoint& b, v1::Factor* factor);

}  // namespace georisk::storage

#endif  // GEORISK_STORAGE_SCORE_HISTORY_H_
