// File: services/ingest/import_resolver.h
//
// ImportResolver: entity resolution of what an import wrote (issue 16). For
// one batch that GraphStore applied, it asks graphstore's
// Resolution.MatchEntities about every entity upsert GraphStore accepted
// (with the entity's id, so it is not its own candidate, and each candidate
// carries the judgement already stored for the pair), turns the candidates
// into link mutations and applies them in one GraphStore.Apply (through the
// BatchApplier: isolation of bad links, retries):
//
//   - MATCH_DECISION_AUTO_LINK (a strong identifier equal, above the
//     threshold: resolve/matcher.h's rule) -> a POSITIVE link decided by
//     "rule:identifier" ("rule:name" when graphstore auto-links names);
//   - MATCH_DECISION_REVIEW -> an UNSURE link decided by "rule:name", in the
//     review queue;
//   - a candidate whose stored judgement is NEGATIVE is never written (kept
//     refused); one already POSITIVE, or already UNSURE for a review
//     candidate, is not written again. The store itself refuses automatic
//     upserts over a refusal or a reviewer's decision.
//
// The links carry the candidate's method, score, features and evidence
// (what MatchEntities answered, as resolve/candidate_link.h made them).
//
//   ImportResolver resolver(resolution_client, {});
//   v1::ImportResolution tally = resolver.Resolve(batch, result, "ingest",
//                                                 &applier, &cancel);
//
// Resolution never fails: a failed match (UNAVAILABLE while the index loads
// or catches up, UNIMPLEMENTED without --resolution, INVALID_ARGUMENT for a
// record the matcher refuses) or a failed link write is counted in
// not_resolved with the first reason. After an UNAVAILABLE, UNIMPLEMENTED,
// DEADLINE_EXCEEDED or CANCELLED match the rest of the batch is not tried
// (each match would wait as long), and counted not resolved too.
//
// Thread-safe: Resolve() calls are independent. The client must outlive the
// resolver.
#ifndef GEORISK_SERVICES_INGEST_IMPORT_RESOLVER_H_
#define GEORISK_SERVICES_INGEST_IMPORT_RESOLVER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "georisk/v1/graph.pb.h"
#include "georisk/v1/ingest.pb.h"
#include "georisk/v1/resolution.pb.h"
#include "services/ingest/batch_applier.h"
#include "services/ingest/cancellation.h"
#include "services/ingest/resolution_client.h"

namespace georisk::ingest {

struct ResolverOptions {
  // Deadline of each MatchEntities call. It covers the server's own wait for
  // its index to hold the batch just applied (resolution.proto's freshness,
  // 5 s by default), so keep it longer than that.
  absl::Duration match_deadline = absl::Seconds(30);
  // Candidates asked for per entity (MatchEntitiesRequest.limit, at most 50).
  int max_candidates = 10;
  // decided_at of the links. Default (empty): absl::Now.
  std::function<absl::Time()> clock;
};

// What Resolve() did with one batch.
struct ResolveResult {
  v1::ImportResolution tally;
  // The link commit's sequence (0 when nothing was written).
  int64_t last_sequence = 0;
};

class ImportResolver {
 public:
  ImportResolver(ResolutionClient* client, ResolverOptions options);

  // Resolves the entity upserts of `batch` that `result` says GraphStore
  // accepted (applied, unchanged or duplicate), in order. Links take their
  // `source` from the entity's, else `default_source`. `applier` writes the
  // links (one Apply for the batch).
  ResolveResult Resolve(const std::vector<PendingRecord>& batch,
                        const BatchResult& result,
                        absl::string_view default_source, BatchApplier* applier,
                        Cancellation* cancel) const;

 private:
  absl::Time Now() const;

  ResolutionClient* const client_;
  const ResolverOptions options_;
};

// Adds `from`'s counts to `into`; keeps `into`'s reason when it has one.
void AddResolution(const v1::ImportResolution& from,
                   v1::ImportResolution* into);

}  // namespace georisk::ingest

#endif  // GEORISK_SERVICES_INGEST_IMPORT_RESOLVER_H_
