// File: bench/resolve_bench.cc
//
// The entity-resolution benchmark of issue 16: builds a PartyIndex of
// --parties synthetic parties (default 1,000,000), resolves a list of --list
// rows against it (default 20,000: variants of indexed names, rows carrying
// an indexed LEI, Cyrillic spellings, and parties that are not indexed),
// timing the whole list and each query, then scores --brute_force queries by
// scanning every party (PartyIndex::BruteForceMatch) in the same run, and
// says how often the scan's best candidate is also the index's.
//
//   bazel run -c opt //bench:resolve_bench -- --parties=100000 --list=2000
//
// Prints "RESULT name=value" lines (bench/bench_output.h): normalize_*_us
// (one Normalize by script, thread CPU), index_build_s,
// index_rss_mb, list_s, query_p50_ms, query_p99_ms, query_max_ms,
// list_threads_s (the list on --threads threads), brute_p50_ms,
// brute_p99_ms, brute_top1_agreement; the same in thread CPU time
// (*_cpu_*: on a shared machine wall time also counts other processes'
// turns on the cores); and on the synthetic labels
// variant_top1_recall, auto_link_precision, unindexed_with_candidate.
// bench/resolve_run.sh runs it and prints the table against the targets.
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "bench/bench_output.h"
#include "resolve/matcher.h"
#include "resolve/normalize_name.h"

ABSL_FLAG(int, parties, 1000000, "synthetic parties in the index");
ABSL_FLAG(int, list, 20000, "rows of the list resolved against it");
ABSL_FLAG(int, brute_force, 20, "queries also resolved by a full scan");
ABSL_FLAG(int, threads, 2, "threads for the second, parallel list run");
ABSL_FLAG(uint64_t, seed, 16, "random seed");

namespace georisk::bench {
namespace {

using resolve::Candidate;
using resolve::Decision;
using resolve::Party;
using resolve::PartyIndex;
using resolve::PartyKind;
using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// CPU time of the calling thread: on a shared machine, wall time also counts
// the time other processes held the cores.
double ThreadCpuMs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

double RssMb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stod(line.substr(6)) / 1024.0;
    }
  }
  return 0;
}

// Synthetic names: pronounceable words from syllables, some common business
// words, legal forms, countries.
class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {
    static const char* kOnsets[] = {"b", "c",  "d",  "f",  "g",  "h",  "j", "k",
                                    "l", "m",  "n",  "p",  "r",  "s",  "t", "v",
                                    "z", "br", "ch", "kr", "sh", "st", "tr"};
    static const char* kVowels[] = {"a", "e", "i", "o", "u", "ai", "ou", "ei"};
    static const char* kCodas[] = {"", "", "n", "r", "s", "l", "k", "m"};
    for (int i = 0; i < 60000; ++i) {
      std::string w;
      const int syllables = 2 + Uniform(2);
      for (int s = 0; s < syllables; ++s) {
        w += kOnsets[Uniform(std::size(kOnsets))];
        w += kVowels[Uniform(std::size(kVowels))];
        if (s + 1 == syllables) w += kCodas[Uniform(std::size(kCodas))];
      }
      words_.push_back(w);
    }
  }

  int Uniform(size_t n) {
    return static_cast<int>(
        std::uniform_int_distribution<size_t>(0, n - 1)(rng_));
  }
  double Real() { return std::uniform_real_distribution<double>(0, 1)(rng_); }

  std::string Word() {
    // Zipf-like: a few words are much more common than the rest.
    const double u = Real();
    const size_t i = static_cast<size_t>(std::pow(u, 2.0) * words_.size());
    return Capitalised(words_[std::min(i, words_.size() - 1)]);
  }

  std::string Common() {
    static const char* kCommon[] = {
        "Trading",       "Industries", "Technology",  "International",
        "Group",         "Holdings",   "Electronics", "Logistics",
        "Energy",        "Metals",     "Shipping",    "Systems",
        "Semiconductor", "Materials",  "Machinery",   "Chemical",
        "Precision",     "Global",     "Pacific",     "Capital"};
    return kCommon[Uniform(std::size(kCommon))];
  }

  std::string LegalForm() {
    static const char* kForms[] = {
        "Co., Ltd.", "Ltd",  "Inc.",    "Corp.",      "LLC",  "GmbH",
        "AG",        "S.A.", "PJSC",    "JSC",        "B.V.", "Pte. Ltd.",
        "Sdn Bhd",   "PLC",  "Limited", "Corporation"};
    return kForms[Uniform(std::size(kForms))];
  }

  std::string Country() {
    static const char* kCountries[] = {
        "CN", "US", "TW", "JP", "KR", "DE", "RU", "GB", "FR", "NL", "SG", "HK",
        "IN", "AE", "IR", "TR", "MY", "VN", "IT", "ES", "CA", "BR", "MX", "CH"};
    return kCountries[Uniform(std::size(kCountries))];
  }

  // A valid LEI: "5493" + 14 random [A-Z0-9] + ISO 7064 check digits.
  std::string Lei() {
    static const char kAlnum[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    std::string base = "5493";
    for (int i = 0; i < 14; ++i) base += kAlnum[Uniform(36)];
    int r = 0;
    for (char c : base + "00") {
      if (c >= '0' && c <= '9') {
        r = (r * 10 + (c - '0')) % 97;
      } else {
        r = (r * 100 + (c - 'A' + 10)) % 97;
      }
    }
    return absl::StrFormat("%s%02d", base, 98 - r);
  }

  Party Make(int i) {
    Party p;
    p.id = absl::StrCat("company/p", i);
    p.country = Country();
    const double k = Real();
    if (k < 0.1) {
      p.kind = PartyKind::kPerson;
      p.id = absl::StrCat("person/p", i);
      p.name = absl::StrCat(Word(), " ", Word());
    } else {
      p.kind = k < 0.15 ? PartyKind::kFacility : PartyKind::kCompany;
      const int distinctive = 1 + Uniform(2);
      for (int w = 0; w < distinctive; ++w) {
        absl::StrAppend(&p.name, w ? " " : "", Word());
      }
      if (Real() < 0.6) absl::StrAppend(&p.name, " ", Common());
      if (Real() < 0.3) absl::StrAppend(&p.name, " ", Common());
      if (p.kind == PartyKind::kCompany) {
        absl::StrAppend(&p.name, " ", LegalForm());
      }
      if (Real() < 0.3) p.identifiers["lei"] = Lei();
      if (Real() < 0.1) {
        p.identifiers["duns"] = absl::StrFormat("%09d", Uniform(999999999));
      }
    }
    if (Real() < 0.2) p.aliases.push_back(absl::StrCat(Word(), " ", Common()));
    return p;
  }

  // A spelling of `name` a list might use: upper case, another legal form,
  // a typo in one word, words reordered, or the legal form dropped.
  std::string Variant(const std::string& name) {
    std::vector<std::string> words = absl::StrSplit(name, ' ');
    switch (Uniform(5)) {
      case 0:
        return absl::AsciiStrToUpper(name);
      case 1:
        if (words.size() > 1) words.back() = LegalForm();
        break;
      case 2: {
        std::string& w = words[Uniform(std::max<size_t>(1, words.size() - 1))];
        if (w.size() > 4) {
          const size_t at = 1 + Uniform(w.size() - 2);
          std::swap(w[at], w[at - 1]);
        }
        break;
      }
      case 3:
        if (words.size() > 2) std::swap(words[0], words[1]);
        break;
      default:
        if (words.size() > 1) words.pop_back();
        break;
    }
    return absl::StrJoin(words, " ");
  }

  // The name in Cyrillic letters, one letter for one (for the ICU path).
  static std::string Cyrillic(const std::string& name) {
    static const char* kMap[26] = {"а", "б", "к", "д", "е", "ф",  "г", "х", "и",
                                   "ж", "к", "л", "м", "н", "о",  "п", "к", "р",
                                   "с", "т", "у", "в", "в", "кс", "й", "з"};
    std::string out;
    for (char c : name) {
      const char l = absl::ascii_tolower(c);
      if (l >= 'a' && l <= 'z') {
        out += kMap[l - 'a'];
      } else {
        out += c;
      }
    }
    return out;
  }

 private:
  static std::string Capitalised(std::string w) {
    w[0] = absl::ascii_toupper(w[0]);
    return w;
  }

  std::mt19937_64 rng_;
  std::vector<std::string> words_;
};

struct Row {
  Party query;
  std::string expected;  // "" for a party not in the index
  bool variant = false;
};

int Main() {
  const int n = absl::GetFlag(FLAGS_parties);
  const int list_size = absl::GetFlag(FLAGS_list);
  Generator gen(absl::GetFlag(FLAGS_seed));

  absl::StatusOr<std::unique_ptr<resolve::NameNormalizer>> made =
      resolve::NameNormalizer::Create();
  if (!made.ok()) {
    std::fprintf(stderr, "%s\n", made.status().ToString().c_str());
    return 1;
  }
  std::shared_ptr<const resolve::NameNormalizer> normalizer = *std::move(made);
  PartyIndex index(resolve::MatcherOptions(), normalizer);

  // What one Normalize costs by script, on one thread and on --threads
  // threads sharing the normalizer (its pool of transliterator clones).
  {
    const struct {
      const char* script;
      const char* name;
    } kNames[] = {
        {"ascii", "Semiconductor Manufacturing International Corporation"},
        {"cyrillic", "Публичное акционерное общество «Газпром нефть»"},
        {"han", "中芯国际集成电路制造有限公司"},
        {"arabic", "صدام حسين التكريتي"},
    };
    constexpr int kCalls = 2000;
    for (const auto& n : kNames) {
      const double c0 = ThreadCpuMs();
      for (int i = 0; i < kCalls; ++i) (void)normalizer->Normalize(n.name);
      Result(absl::StrCat("normalize_", n.script, "_us"),
             (ThreadCpuMs() - c0) * 1000.0 / kCalls);
    }
    const int threads = std::max(1, absl::GetFlag(FLAGS_threads));
    const Clock::time_point t0 = Clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        for (int i = 0; i < kCalls; ++i) {
          (void)normalizer->Normalize(kNames[1].name);
        }
      });
    }
    for (std::thread& t : pool) t.join();
    Result("normalize_cyrillic_threads_calls_per_s",
           threads * kCalls / (Ms(Clock::now() - t0) / 1000.0));
    Result("transliterator_clones", normalizer->PooledTransliterators());
  }

  Progress("index", absl::StrCat("generating and indexing ", n, " parties"));
  std::vector<Party> sample;  // parties the list will name
  const double rss0 = RssMb();
  const Clock::time_point b0 = Clock::now();
  const double b0_cpu = ThreadCpuMs();
  for (int i = 0; i < n; ++i) {
    Party p = gen.Make(i);
    if (static_cast<int>(sample.size()) < list_size && gen.Real() < 0.05) {
      sample.push_back(p);
    }
    const absl::Status s = index.Upsert(p);
    if (!s.ok()) {
      std::fprintf(stderr, "upsert: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  const double build_s = Ms(Clock::now() - b0) / 1000.0;
  Result("parties", index.size());
  Result("index_build_s", build_s);
  Result("index_build_cpu_s", (ThreadCpuMs() - b0_cpu) / 1000.0);
  Result("index_rss_mb", RssMb() - rss0);

  // The list: 45% name variants, 20% an indexed LEI with a variant name,
  // 5% Cyrillic spellings, 30% parties that are not in the index.
  std::vector<Row> rows;
  size_t next = 0;
  for (int i = 0; i < list_size; ++i) {
    Row row;
    const double u = gen.Real();
    if (u < 0.7 && next < sample.size()) {
      const Party& p = sample[next++];
      row.expected = p.id;
      row.query.kind = p.kind;
      row.query.country = gen.Real() < 0.9 ? p.country : "";
      if (u < 0.45) {
        row.query.name = gen.Variant(p.name);
        row.variant = true;
      } else if (u < 0.65) {
        row.query.name = gen.Variant(p.name);
        auto lei = p.identifiers.find("lei");
        if (lei != p.identifiers.end()) {
          row.query.identifiers["lei"] = lei->second;
        } else {
          row.variant = true;
        }
      } else {
        row.query.name = Generator::Cyrillic(p.name);
        row.variant = true;
      }
    } else {
      row.query = gen.Make(n + i);  // a new party
    }
    rows.push_back(std::move(row));
  }

  Progress("list", absl::StrCat("resolving ", rows.size(), " rows"));
  std::vector<double> latencies, cpu;
  latencies.reserve(rows.size());
  cpu.reserve(rows.size());
  std::vector<std::vector<Candidate>> results(rows.size());
  const Clock::time_point l0 = Clock::now();
  const double l0_cpu = ThreadCpuMs();
  for (size_t i = 0; i < rows.size(); ++i) {
    const Clock::time_point q0 = Clock::now();
    const double q0_cpu = ThreadCpuMs();
    absl::StatusOr<std::vector<Candidate>> c = index.Match(rows[i].query);
    cpu.push_back(ThreadCpuMs() - q0_cpu);
    latencies.push_back(Ms(Clock::now() - q0));
    if (c.ok()) results[i] = *std::move(c);
  }
  const double list_s = Ms(Clock::now() - l0) / 1000.0;
  Result("list_rows", rows.size());
  Result("list_s", list_s);
  Result("list_cpu_s", (ThreadCpuMs() - l0_cpu) / 1000.0);
  Result("query_p50_ms", Percentile(latencies, 50));
  Result("query_p99_ms", Percentile(latencies, 99));
  Result("query_max_ms", Percentile(latencies, 100));
  Result("query_cpu_p50_ms", Percentile(cpu, 50));
  Result("query_cpu_p99_ms", Percentile(cpu, 99));

  // The same list on several threads (Match takes the reader lock).
  const int threads = std::max(1, absl::GetFlag(FLAGS_threads));
  std::atomic<size_t> cursor{0};
  const Clock::time_point t0 = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (size_t i; (i = cursor.fetch_add(1)) < rows.size();) {
        (void)index.Match(rows[i].query);
      }
    });
  }
  for (std::thread& t : pool) t.join();
  Result("list_threads", threads);
  Result("list_threads_s", Ms(Clock::now() - t0) / 1000.0);

  // Quality on the synthetic labels.
  int variants = 0, variant_top = 0, autos = 0, autos_right = 0;
  int unindexed = 0, unindexed_with = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::vector<Candidate>& c = results[i];
    for (const Candidate& x : c) {
      if (x.decision == Decision::kAutoLink) {
        ++autos;
        if (x.id == rows[i].expected) ++autos_right;
      }
    }
    if (rows[i].expected.empty()) {
      ++unindexed;
      if (!c.empty()) ++unindexed_with;
    } else if (rows[i].variant) {
      ++variants;
      if (!c.empty() && c[0].id == rows[i].expected) ++variant_top;
    }
  }
  Result("variant_top1_recall", variants ? double(variant_top) / variants : 0);
  Result("auto_links", autos);
  Result("auto_link_precision", autos ? double(autos_right) / autos : 1);
  Result("unindexed_with_candidate",
         unindexed ? double(unindexed_with) / unindexed : 0);

  // Brute force: every party scored, for the first queries of the list.
  const int brute =
      std::min<int>(absl::GetFlag(FLAGS_brute_force), rows.size());
  Progress("brute", absl::StrCat("scanning the index for ", brute, " queries"));
  std::vector<double> brute_ms, brute_cpu;
  int agree = 0, agree_score = 0;
  for (int i = 0; i < brute; ++i) {
    const Clock::time_point q0 = Clock::now();
    const double q0_cpu = ThreadCpuMs();
    absl::StatusOr<std::vector<Candidate>> c =
        index.BruteForceMatch(rows[i].query);
    brute_cpu.push_back(ThreadCpuMs() - q0_cpu);
    brute_ms.push_back(Ms(Clock::now() - q0));
    const std::string a = results[i].empty() ? "" : results[i][0].id;
    const std::string b = (!c.ok() || c->empty()) ? "" : (*c)[0].id;
    const double sa = results[i].empty() ? 0 : results[i][0].score;
    const double sb = (!c.ok() || c->empty()) ? 0 : (*c)[0].score;
    if (a == b) ++agree;
    if (a == b || sa == sb) {
      ++agree_score;
    } else {
      Progress("brute",
               absl::StrFormat("'%s': index %s %.3f, scan %s %.3f (%s)",
                               rows[i].query.name, a, sa, b, sb,
                               c.ok() && !c->empty() ? (*c)[0].evidence : ""));
    }
  }
  Result("brute_queries", brute);
  Result("brute_p50_ms", Percentile(brute_ms, 50));
  Result("brute_p99_ms", Percentile(brute_ms, 99));
  Result("brute_cpu_p50_ms", Percentile(brute_cpu, 50));
  Result("brute_cpu_p99_ms", Percentile(brute_cpu, 99));
  Result("brute_top1_agreement", brute ? double(agree) / brute : 0);
  // Ties: another party with the same best score is as good an answer.
  Result("brute_top1_score_agreement", brute ? double(agree_score) / brute : 0);
  return 0;
}

}  // namespace
}  // namespace georisk::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return georisk::bench::Main();
}
