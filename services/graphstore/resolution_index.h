// File: services/graphstore/resolution_index.h
//
// ResolutionIndex: graphstore's in-memory view for entity resolution — a
// resolve::PartyIndex of every entity (names, aliases, country, identifiers)
// and every link with the review queue (UNSURE links by score) — built from
// a snapshot of the store and kept current by following the store's change
// log, so every writer's commits (Apply from ingest, georiskctl, reviews)
// reach it the same way. A background thread loads it and follows; when the
// change log was trimmed past its position it loads a fresh snapshot.
//
//   ResolutionIndex index(store, normalizer, {});
//   RETURN_IF_ERROR(index.WaitFor(store->LastSequence(),
//                                 absl::Now() + absl::Seconds(5)));
//   ASSIGN_OR_RETURN(std::vector<resolve::Candidate> c, index.Match(query));
//
// Thread safety: every method may be called from any thread. The store must
// outlive the index; destroying the index stops its thread (within one
// `poll` interval).
#ifndef GEORISK_SERVICES_GRAPHSTORE_RESOLUTION_INDEX_H_
#define GEORISK_SERVICES_GRAPHSTORE_RESOLUTION_INDEX_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "georisk/v1/graph.pb.h"
#include "resolve/matcher.h"
#include "resolve/normalize_name.h"
#include "storage/graph_store.h"

namespace georisk::graphstore {

struct ResolutionIndexOptions {
  // The matcher's thresholds and limits (resolve/matcher.h).
  resolve::MatcherOptions matcher;
  // How long the follower waits for a commit before it looks again (and
  // notices a stop). Default 200 ms.
  absl::Duration poll = absl::Milliseconds(200);
  // Changes read per ReadChanges call. Default 1,000.
  int max_changes_per_read = 1000;
};

class ResolutionIndex {
 public:
  // Starts the background load. `store` must outlive the index.
  ResolutionIndex(storage::GraphStore* store,
                  std::shared_ptr<const resolve::NameNormalizer> normalizer,
                  ResolutionIndexOptions options);
  ~ResolutionIndex();
  ResolutionIndex(const ResolutionIndex&) = delete;
  ResolutionIndex& operator=(const ResolutionIndex&) = delete;

  // Blocks until the index holds every commit up to `sequence` or `deadline`
  // passes. UNAVAILABLE "the resolution index is loading" or "...is at
  // sequence N of M" when it did not get there.
  absl::Status WaitFor(int64_t sequence, absl::Time deadline) const;

  // The last commit the index holds; 0 before the first load.
  int64_t sequence() const;

  // Candidates for `query` (resolve::PartyIndex::Match). UNAVAILABLE before
  // the first load; INVALID_ARGUMENT as Match.
  absl::StatusOr<std::vector<resolve::Candidate>> Match(
      const resolve::Party& query) const;

  // The judgement stored for the pair (either order), JUDGEMENT_UNSPECIFIED
  // when there is none.
  v1::Link::Judgement JudgementOf(absl::string_view entity_a,
                                  absl::string_view entity_b) const;

  // Review queue filters: links whose source starts with `source_prefix`,
  // score in [min_score, max_score], entity_a starting with `id_prefix`
  // ("company/"; empty: any).
  struct QueueFilter {
    std::string source_prefix;
    double min_score = 0;
    double max_score = 1;
    std::string id_prefix;
    // When set, only links whose entity_a (the smaller id) it accepts: a
    // shard's part of a partitioned queue (docs/scale-out.md).
    std::function<bool(absl::string_view)> entity_a_filter;
  };
  // A place in the queue: the last link of a page.
  struct QueuePosition {
    double score = 0;
    std::string entity_a;
    std::string entity_b;
  };
  struct QueuePage {
    std::vector<v1::Link> links;
    // Whether another link passing the filters follows the page.
    bool more = false;
    // Links passing the filters, all pages together.
    int64_t total = 0;
  };
  // UNSURE links, score descending, then by pair, after `after` when set,
  // at most `limit`. O(queue size): it counts every passing link.
  QueuePage ReviewQueue(const QueueFilter& filter,
                        const std::optional<QueuePosition>& after,
                        int limit) const;

 private:
  using Pair = std::pair<std::string, std::string>;  // first < second
  // (-score, entity_a, entity_b): best first.
  using QueueKey = std::tuple<double, std::string, std::string>;
  struct State {
    std::shared_ptr<resolve::PartyIndex> parties;
    absl::flat_hash_map<Pair, v1::Link> links;
    std::set<QueueKey> queue;
  };

  static Pair PairOf(absl::string_view a, absl::string_view b);
  static void PutLink(const v1::Link& link, State* state);
  static void EraseLink(absl::string_view a, absl::string_view b, State* state);

  void Run();
  // Reads a snapshot into a new state and publishes it.
  absl::Status Load();
  // Follows the change log until a stop (OK) or an error.
  absl::Status Follow();
  // Entities go to `parties` (thread-safe) without mu_, so matches are not
  // held up by a large commit; links under mu_; then the sequence.
  void ApplyChange(const v1::Change& change, resolve::PartyIndex* parties);
  bool Stopping() const;

  storage::GraphStore* const store_;
  const std::shared_ptr<const resolve::NameNormalizer> normalizer_;
  const ResolutionIndexOptions options_;

  mutable absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_);
  int64_t sequence_ ABSL_GUARDED_BY(mu_) = 0;
  bool loaded_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  std::thread thread_;
};

}  // namespace georisk::graphstore

#endif  // GEORISK_SERVICES_GRAPHSTORE_RESOLUTION_INDEX_H_
