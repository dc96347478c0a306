#include "resolve/candidate_link.h"

namespace georisk::resolve {
namespace {

double CompatibilityValue(Compatibility c) {
  switch (c) {
    case Compatibility::kSame:
      return 1.0;
    case Compatibility::kUnknown:
      return 0.5;
    case Compatibility::kDifferent:
      return 0.0;
  }
  return 0.5;
}

}  // namespace

v1::Link::Method MethodOf(const Candidate& candidate) {
  return candidate.features.strong_identifier ? v1::Link::IDENTIFIER
                                              : v1::Link::NAME;
}

std::map<std::string, double> FeaturesOf(const Candidate& candidate) {
  const MatchFeatures& f = candidate.features;
  double identifier = 0;
  if (!f.identifier_scheme.empty()) identifier = f.strong_identifier ? 1 : 0.5;
  return {
      {"identifier", identifier},
      {"identifier_conflict", f.conflicting_scheme.empty() ? 0.0 : 1.0},
      {"name_similarity", f.name_similarity},
      {"phonetic", f.phonetic},
      {"acronym", f.acronym ? 1.0 : 0.0},
      {"legal_form", CompatibilityValue(f.legal_form)},
      {"country", CompatibilityValue(f.country)},
      {"kind", CompatibilityValue(f.kind)},
  };
}

void FillLinkEvidence(const Candidate& candidate, v1::Link* link) {
  link->set_method(MethodOf(candidate));
  link->set_score(candidate.score);
  link->clear_features();
  for (const auto& [name, value] : FeaturesOf(candidate)) {
    (*link->mutable_features())[name] = value;
  }
  link->clear_evidence();
  link->add_evidence(candidate.evidence);
}

}  // namespace georisk::resolve
