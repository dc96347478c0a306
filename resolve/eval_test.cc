// The quality test of issue 16: precision of automatic links and recall of
// the top candidate on the labelled evaluation set of testdata/ (its
// README.md says where every row comes from). It prints a table per
// category and asserts the targets: auto-link precision >= 0.99 and
// top-candidate recall >= 0.9 over the categories in kTargetCategories.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "resolve/matcher.h"

namespace georisk::resolve {
namespace {

// alias_other (a.k.a. names sharing no word with the name: translations,
// former names) is reported but not in the targets: no name matcher can
// find "AVIA IMPORT" from "ANGLO-CARIBBEAN CO., LTD.".
const std::set<std::string> kReportedOnly = {"alias_other", "alias_partial"};

std::string DataPath(absl::string_view file) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  std::string base = srcdir == nullptr
                         ? std::string(".")
                         : std::string(srcdir) + "/" +
                               (workspace == nullptr ? "georisk" : workspace);
  return base + "/resolve/testdata/" + std::string(file);
}

std::vector<std::vector<std::string>> ReadTsv(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    rows.push_back(absl::StrSplit(line, '\t'));
  }
  return rows;
}

PartyKind Kind(absl::string_view k) {
  if (k == "company") return PartyKind::kCompany;
  if (k == "person") return PartyKind::kPerson;
  if (k == "facility") return PartyKind::kFacility;
  return PartyKind::kUnspecified;
}

std::map<std::string, std::string> Identifiers(absl::string_view text) {
  std::map<std::string, std::string> ids;
  if (text.empty()) return ids;
  for (absl::string_view kv : absl::StrSplit(text, '|')) {
    std::pair<std::string, std::string> p = absl::StrSplit(kv, '=');
    ids.insert(p);
  }
  return ids;
}

struct Tally {
  int queries = 0;
  int with_match = 0;
  int top_correct = 0;
  int auto_links = 0;
  int auto_correct = 0;
  int negatives = 0;
  int negatives_with_candidate = 0;
};

TEST(EvalTest, PrecisionAndRecallOnTheLabelledSet) {
  absl::StatusOr<std::unique_ptr<NameNormalizer>> made =
      NameNormalizer::Create();
  ASSERT_TRUE(made.ok()) << made.status();
  std::shared_ptr<const NameNormalizer> normalizer = *std::move(made);

  std::map<std::string, std::unique_ptr<PartyIndex>> indexes;
  for (const auto& row : ReadTsv(DataPath("eval_index.tsv"))) {
    ASSERT_EQ(row.size(), 7u) << row[0];
    std::unique_ptr<PartyIndex>& index = indexes[row[0]];
    if (index == nullptr) {
      index = std::make_unique<PartyIndex>(MatcherOptions(), normalizer);
    }
    Party p;
    p.id = row[1];
    p.kind = Kind(row[2]);
    p.country = row[3];
    p.name = row[4];
    p.identifiers = Identifiers(row[5]);
    ASSERT_TRUE(index->Upsert(p).ok()) << p.id;
  }

  std::map<std::string, Tally> by_category;
  Tally target;
  std::vector<std::string> misses;
  int rows = 0;
  for (const auto& row : ReadTsv(DataPath("eval_pairs.tsv"))) {
    ASSERT_EQ(row.size(), 10u) << row[0];
    ++rows;
    const std::string& category = row[2];
    Party q;
    q.kind = Kind(row[3]);
    q.country = row[4];
    q.name = row[5];
    if (!row[6].empty()) q.aliases = absl::StrSplit(row[6], '|');
    q.identifiers = Identifiers(row[7]);
    const std::string& expected = row[8];
    ASSERT_TRUE(indexes.count(row[1])) << row[1];
    absl::StatusOr<std::vector<Candidate>> c = indexes[row[1]]->Match(q);
    ASSERT_TRUE(c.ok()) << row[0] << ": " << c.status();

    for (Tally* t : {&by_category[category],
                     kReportedOnly.count(category) ? nullptr : &target}) {
      if (t == nullptr) continue;
      ++t->queries;
      for (const Candidate& x : *c) {
        if (x.decision == Decision::kAutoLink) {
          ++t->auto_links;
          if (x.id == expected) ++t->auto_correct;
        }
      }
      if (expected == "-") {
        ++t->negatives;
        if (!c->empty()) ++t->negatives_with_candidate;
      } else {
        ++t->with_match;
        if (!c->empty() && (*c)[0].id == expected) ++t->top_correct;
      }
    }
    if (expected != "-" && (c->empty() || (*c)[0].id != expected) &&
        !kReportedOnly.count(category)) {
      misses.push_back(row[0] + " [" + category + "] '" + q.name + "' -> " +
                       (c->empty() ? std::string("(none)")
                                   : (*c)[0].id + " " + (*c)[0].evidence));
    }
    for (const Candidate& x : *c) {
      if (x.decision == Decision::kAutoLink && x.id != expected) {
        misses.push_back("WRONG AUTO-LINK " + row[0] + " -> " + x.id + " " +
                         x.evidence);
      }
    }
  }
  ASSERT_GE(rows, 300);

  auto ratio = [](int a, int b) { return b == 0 ? 1.0 : double(a) / b; };
  std::printf("%-16s %7s %9s %11s %9s %13s\n", "category", "queries",
              "top-recall", "auto-links", "auto-prec", "neg-with-cand");
  auto print = [&](const std::string& name, const Tally& t) {
    std::printf("%-16s %7d %4d/%-4d %.3f %4d/%-4d %.3f %4d/%-4d\n",
                name.c_str(), t.queries, t.top_correct, t.with_match,
                ratio(t.top_correct, t.with_match), t.auto_correct,
                t.auto_links, ratio(t.auto_correct, t.auto_links),
                t.negatives_with_candidate, t.negatives);
  };
  for (const auto& [name, t] : by_category) print(name, t);
  print("TARGET SET", target);
  for (const std::string& m : misses) std::printf("miss: %s\n", m.c_str());

  const double precision = ratio(target.auto_correct, target.auto_links);
  const double recall = ratio(target.top_correct, target.with_match);
  std::printf("RESULT auto_link_precision=%.4f\nRESULT top_recall=%.4f\n",
              precision, recall);
  EXPECT_GE(precision, 0.99);
  EXPECT_GE(recall, 0.9);
  EXPECT_GT(target.auto_links, 100);  // the precision figure means something
}

}  // namespace
}  // namespace georisk::resolve
