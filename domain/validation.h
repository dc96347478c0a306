// File: domain/validation.h
//
// The record rules of the georisk graph (graph.proto's comments, made
// executable). The graph store checks every mutation with them before it
// writes anything, and the ingest service reuses them to reject bad records
// with a precise reason.
//
// Every error is absl::InvalidArgumentError whose message starts with the path
// of the field at fault, built from the caller's prefix:
//
//   absl::Status s = ValidateMutation(request.mutations(3), "mutations[3]");
//   // s.message() == "mutations[3].upsert_edge.weight: must be in [0, 1],
//   //                 got 1.5"
//
// These are the rules one record can check alone. Rules that need the stored
// graph (an edge's endpoints must exist) are checked by the store. The kind of
// an edge's endpoints is in their ids' prefixes, so the person rules are
// checked here: OWNS may come from a company or a person, OPERATES only from a
// company, SUPPLIES neither from nor to a person. A company or person may have
// no country; a facility must have one.
//
// Thread-safe: every function here is pure.
#ifndef GEORISK_DOMAIN_VALIDATION_H_
#define GEORISK_DOMAIN_VALIDATION_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "georisk/v1/graph.pb.h"

namespace georisk::domain {

// Longest slug after "<kind>/".
inline constexpr size_t kMaxSlugBytes = 128;
// Longest name, alias and title.
inline constexpr size_t kMaxNameBytes = 512;
// Longest source (a URL or a citation).
inline constexpr size_t kMaxSourceBytes = 4096;
// Longest idempotency key.
inline constexpr size_t kMaxIdempotencyKeyBytes = 256;
// Longest Edge.record_id.
inline constexpr size_t kMaxRecordIdBytes = 256;

// Links (graph.proto's Link): most features, evidence lines, bytes of one
// evidence line or reason, bytes of a feature name and of decided_by.
inline constexpr size_t kMaxLinkFeatures = 32;
inline constexpr size_t kMaxEvidenceLines = 16;
inline constexpr size_t kMaxEvidenceBytes = 1024;
inline constexpr size_t kMaxFeatureNameBytes = 64;
inline constexpr size_t kMaxDecidedByBytes = 256;
// Link.decided_by starts with one of these.
inline constexpr absl::string_view kRulePrefix = "rule:";
inline constexpr absl::string_view kReviewerPrefix = "reviewer:";

// The kinds of record an id may name.
enum class IdKind {
  kCompany,   // "company/<slug>"
  kFacility,  // "facility/<slug>"
  kPerson,    // "person/<slug>"
  kEntity,    // any of the above
  kSignal,    // "signal/<slug>"
};

// Checks that `id` is "<kind>/<slug>" with the kind allowed by `kind` and a
// slug matching [a-z0-9][a-z0-9._:-]{0,127}. `path` names the field.
absl::Status ValidateId(absl::string_view id, IdKind kind,
                        absl::string_view path);

// True when `code` is an HS code or prefix: 2 to 10 ASCII digits.
bool IsHsCode(absl::string_view code);

// Validates one record. `path` names it ("mutations[3].upsert_entity"); an
// empty path gives bare field names ("weight: ...").
absl::Status ValidateEntity(const v1::Entity& entity, absl::string_view path);
absl::Status ValidateEdge(const v1::Edge& edge, absl::string_view path);
absl::Status ValidateEdgeKey(const v1::EdgeKey& key, absl::string_view path);
absl::Status ValidateSignal(const v1::Signal& signal, absl::string_view path);

// A link: a valid pair (two entity ids, different, with one id prefix, so of
// one kind), judgement and method set and known, score and every feature in
// [0, 1], feature names [a-z0-9_]{1,64} (at most 32), evidence (at least one
// line unless MANUAL, at most 16 of at most 1024 bytes), decided_by
// "rule:<rule>" or "reviewer:<name>" (a reviewer for MANUAL), decided_at
// set, reason at most 1024 bytes, source required. That both entities exist
// is the store's check.
absl::Status ValidateLink(const v1::Link& link, absl::string_view path);
// A pair alone (delete_link).
absl::Status ValidateLinkKey(const v1::LinkKey& key, absl::string_view path);
// Whether `decided_by` names a person ("reviewer:...").
bool IsReviewerDecision(absl::string_view decided_by);

// Validates a mutation: exactly one kind set, that record or id valid, the
// idempotency key at most 256 bytes. `path_prefix` names the mutation
// ("mutations[3]"); the field path continues with the oneof field's name
// ("mutations[3].upsert_edge.weight").
absl::Status ValidateMutation(const v1::Mutation& mutation,
                              absl::string_view path_prefix);

}  // namespace georisk::domain

#endif  // GEORISK_DOMAIN_VALIDATION_H_
