#include "resolve/name_similarity.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace georisk::resolve {
namespace {

// Merges, in `b`, runs of 2 or 3 adjacent tokens whose concatenation is a
// token of `a`.
// True when some token of `a` (4+ letters) absent from `b` starts with a
// token of `b`: the only case MergeCompounds can change anything.
bool MayMerge(const std::vector<std::string>& a,
              const std::vector<std::string>& b) {
  if (b.size() < 2) return false;
  for (const std::string& t : a) {
    if (t.size() < 4) continue;
    for (const std::string& u : b) {
      if (u.size() < t.size() && t.compare(0, u.size(), u) == 0) return true;
    }
  }
  return false;
}

void MergeCompounds(const std::vector<std::string>& a,
                    std::vector<std::string>* b) {
  if (b->size() < 2) return;
  for (const std::string& token : a) {
    if (token.size() < 4) continue;
    if (std::find(b->begin(), b->end(), token) != b->end()) continue;
    for (size_t k = 3; k >= 2; --k) {
      bool merged = false;
      for (size_t i = 0; i + k <= b->size(); ++i) {
        if ((*b)[i].size() >= token.size()) continue;
        std::string joined;
        for (size_t j = i; j < i + k; ++j) joined += (*b)[j];
        if (joined == token) {
          (*b)[i] = std::move(joined);
          b->erase(b->begin() + i + 1, b->begin() + i + k);
          merged = true;
          break;
        }
      }
      if (merged) break;
    }
  }
}

bool Skippable(absl::string_view t) {
  return t == "and" || t == "of" || t == "the" || t == "for";
}

bool AcronymFrom(absl::string_view acronym,
                 const std::vector<std::string>& words, size_t w) {
  if (acronym.empty()) return w == words.size();
  if (w == words.size()) return false;
  if (words[w][0] == acronym[0] &&
      AcronymFrom(acronym.substr(1), words, w + 1)) {
    return true;
  }
  return Skippable(words[w]) && AcronymFrom(acronym, words, w + 1);
}

}  // namespace

double JaroWinkler(absl::string_view a, absl::string_view b) {
  if (a == b) return 1.0;
  const int n = static_cast<int>(a.size()), m = static_cast<int>(b.size());
  if (n == 0 || m == 0) return 0.0;
  const int window = std::max(0, std::max(n, m) / 2 - 1);
  bool a_match[64] = {false}, b_match[64] = {false};
  if (n > 64 || m > 64) {
    return a.substr(0, 64) == b.substr(0, 64) ? 0.95 : 0.0;
  }
  int matches = 0;
  for (int i = 0; i < n; ++i) {
    const int lo = std::max(0, i - window), hi = std::min(m - 1, i + window);
    for (int j = lo; j <= hi; ++j) {
      if (!b_match[j] && a[i] == b[j]) {
        a_match[i] = b_match[j] = true;
        ++matches;
        break;
      }
    }
  }
  if (matches == 0) return 0.0;
  int transpositions = 0;
  for (int i = 0, j = 0; i < n; ++i) {
    if (!a_match[i]) continue;
    while (!b_match[j]) ++j;
    if (a[i] != b[j]) ++transpositions;
    ++j;
  }
  const double md = matches;
  const double jaro =
      (md / n + md / m + (md - transpositions / 2.0) / md) / 3.0;
  int prefix = 0;
  while (prefix < 4 && prefix < n && prefix < m && a[prefix] == b[prefix]) {
    ++prefix;
  }
  return jaro + prefix * 0.1 * (1.0 - jaro);
}

double SoftTfIdf(const std::vector<std::string>& a_in,
                 const std::vector<std::string>& b_in,
                 absl::FunctionRef<double(absl::string_view)> idf,
                 double threshold) {
  if (a_in.empty() || b_in.empty()) return 0.0;
  // Copies only when a compound may merge (the common case needs none).
  const bool merge_b = MayMerge(a_in, b_in), merge_a = MayMerge(b_in, a_in);
  std::vector<std::string> a_merged, b_merged;
  if (merge_b || merge_a) {
    a_merged = a_in;
    b_merged = b_in;
    MergeCompounds(a_merged, &b_merged);
    MergeCompounds(b_merged, &a_merged);
  }
  const std::vector<std::string>& a = merge_b || merge_a ? a_merged : a_in;
  const std::vector<std::string>& b = merge_b || merge_a ? b_merged : b_in;
  std::vector<double> wa(a.size()), wb(b.size());
  double na = 0, nb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    wa[i] = idf(a[i]);
    na += wa[i] * wa[i];
  }
  for (size_t j = 0; j < b.size(); ++j) {
    wb[j] = idf(b[j]);
    nb += wb[j] * wb[j];
  }
  if (na <= 0 || nb <= 0) return 0.0;
  // Each token of `a` meets its closest token of `b` (each token of `b` used
  // once, greedily in order of similarity).
  struct Pair {
    double sim;
    size_t i, j;
  };
  std::vector<Pair> pairs;
  for (size_t i = 0; i < a.size(); ++i) {
    for (size_t j = 0; j < b.size(); ++j) {
      // Lengths more than 2:1 apart cannot reach the threshold's 0.9.
      const size_t la = a[i].size(), lb = b[j].size();
      if (threshold >= 0.9 && a[i] != b[j] && (la * 2 < lb || lb * 2 < la)) {
        continue;
      }
      const double s = a[i] == b[j] ? 1.0 : JaroWinkler(a[i], b[j]);
      if (s >= threshold) pairs.push_back({s, i, j});
    }
  }
  std::sort(pairs.begin(), pairs.end(),
            [](const Pair& x, const Pair& y) { return x.sim > y.sim; });
  std::vector<bool> used_a(a.size()), used_b(b.size());
  double dot = 0;
  for (const Pair& p : pairs) {
    if (used_a[p.i] || used_b[p.j]) continue;
    used_a[p.i] = used_b[p.j] = true;
    dot += wa[p.i] * wb[p.j] * p.sim;
  }
  return std::min(1.0, dot / std::sqrt(na * nb));
}

bool IsAcronymOf(absl::string_view acronym,
                 const std::vector<std::string>& tokens,
                 const std::vector<std::string>& legal_forms) {
  if (acronym.size() < 2 || acronym.size() > 8 || tokens.size() < 2) {
    return false;
  }
  for (char c : acronym) {
    if (c < 'a' || c > 'z') return false;
  }
  if (AcronymFrom(acronym, tokens, 0)) return true;
  for (const std::string& f : legal_forms) {
    std::vector<std::string> with_form = tokens;
    with_form.push_back(f);
    if (AcronymFrom(acronym, with_form, 0)) return true;
  }
  return false;
}

}  // namespace georisk::resolve
