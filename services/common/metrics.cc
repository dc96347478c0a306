#include "services/common/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace georisk::common {
namespace {

static_assert(std::atomic<double>::is_always_lock_free,
              "metrics updates must not take a lock");

using internal::MetricType;

void AtomicAdd(std::atomic<double>& value, double delta) {
  double old = value.load(std::memory_order_relaxed);
  while (!value.compare_exchange_weak(old, old + delta,
                                      std::memory_order_relaxed)) {
  }
}

// ---- Formatting -------------------------------------------------------------

// Formats `v` as Prometheus reads it: integral values without a fraction,
// others with the fewest digits that read back exactly.
std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return "0";  // Also -0.
  if (v == std::trunc(v) && std::fabs(v) < 1e15) {
    return absl::StrFormat("%.0f", v);
  }
  for (int precision = 15; precision < 17; ++precision) {
    std::string s = absl::StrFormat("%.*g", precision, v);
    double back;
    if (absl::SimpleAtod(s, &back) && back == v) return s;
  }
  return absl::StrFormat("%.17g", v);
}

// Returns the length of the well-formed UTF-8 sequence at `s[i]`, or 0 if
// there is none (Unicode Table 3-7).
size_t Utf8SequenceLength(absl::string_view s, size_t i) {
  const auto byte = [s](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // Overlong.
    if (c == 0xED) hi = 0x9F;  // Surrogates.
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // Overlong.
    if (c == 0xF4) hi = 0x8F;  // Beyond U+10FFFF.
  } else {
    return 0;
  }
  if (i + n > s.size() || byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

// Appends `s` with `\` and newline escaped, and `"` too if `quote`. Invalid
// UTF-8 becomes U+FFFD, which the Prometheus parser requires of label values.
void AppendEscaped(absl::string_view s, bool quote, std::string* out) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = Utf8SequenceLength(s, i);
    if (n == 0) {
      out->append("\xEF\xBF\xBD");
      ++i;
      continue;
    }
    const char c = s[i];
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '"' && quote) {
      out->append("\\\"");
    } else {
      out->append(s.data() + i, n);
    }
    i += n;
  }
}

// Returns `a="x",b="y"` for the given names and values.
std::string FormatLabels(const std::vector<std::string>& names,
                         const std::vector<std::string>& values) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out.push_back(',');
    absl::StrAppend(&out, names[i], "=\"");
    AppendEscaped(values[i], /*quote=*/true, &out);
    out.push_back('"');
  }
  return out;
}

// Appends one sample line: `name{labels} value` or `name value`.
void AppendSample(absl::string_view name, absl::string_view labels,
                  double value, std::string* out) {
  out->append(name.data(), name.size());
  if (!labels.empty()) absl::StrAppend(out, "{", labels, "}");
  absl::StrAppend(out, " ", FormatValue(value), "\n");
}

void AppendSeries(const std::string& name, const std::string& labels,
                  const Counter& counter, std::string* out) {
  AppendSample(name, labels, counter.Value(), out);
}

void AppendSeries(const std::string& name, const std::string& labels,
                  const Gauge& gauge, std::string* out) {
  AppendSample(name, labels, gauge.Value(), out);
}

const char* TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
    case MetricType::kCallbackCounter:
      return "counter";
    case MetricType::kGauge:
    case MetricType::kCallbackGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// ---- Validation -------------------------------------------------------------
// Only what makes the exposition unparsable or ambiguous is checked here; the
// naming conventions (units, `_total`, snake_case, ...) are left to the real
// `promtool check metrics`, which metrics_promtool_test runs.

bool IsValidName(absl::string_view s, bool allow_colon) {
  if (s.empty() || absl::ascii_isdigit(s[0])) return false;
  return std::all_of(s.begin(), s.end(), [allow_colon](char c) {
    return absl::ascii_isalnum(c) || c == '_' || (allow_colon && c == ':');
  });
}

// Checks a family definition. Also normalizes `*bounds` (drops an infinite
// last bound; sorts, dedupes and drops NaN if invalid) so that even a
// rejected histogram works.
absl::Status CheckDefinition(MetricType type, absl::string_view name,
                             absl::string_view help,
                             const std::vector<std::string>& label_names,
                             std::vector<double>* bounds) {
  absl::Status status = absl::OkStatus();
  const auto fail = [&status, name](absl::string_view why) {
    if (status.ok()) {
      status =
          absl::InvalidArgumentError(absl::StrCat("metric ", name, ": ", why));
    }
  };

  if (!bounds->empty() &&
      bounds->back() == std::numeric_limits<double>::infinity()) {
    bounds->pop_back();
  }
  if (!std::is_sorted(bounds->begin(), bounds->end(), std::less_equal<>()) ||
      !std::all_of(bounds->begin(), bounds->end(),
                   [](double b) { return std::isfinite(b); })) {
    fail("histogram bounds must be finite and strictly increasing");
    bounds->erase(std::remove_if(bounds->begin(), bounds->end(),
                                 [](double b) { return !std::isfinite(b); }),
                  bounds->end());
    std::sort(bounds->begin(), bounds->end());
    bounds->erase(std::unique(bounds->begin(), bounds->end()), bounds->end());
  }

  if (!IsValidName(name, /*allow_colon=*/true)) {
    fail("names must match [a-zA-Z_:][a-zA-Z0-9_:]*");
  }
  if (help.empty()) fail("help must not be empty");

  std::set<absl::string_view> seen;
  for (const std::string& label : label_names) {
    if (!IsValidName(label, /*allow_colon=*/false) ||
        absl::StartsWith(label, "__")) {
      fail(absl::StrCat("label name '", label,
                        "' must match [a-zA-Z_][a-zA-Z0-9_]* and not start "
                        "with __"));
    }
    if (label == "le" || label == "quantile") {
      fail(absl::StrCat("label name '", label, "' is reserved"));
    }
    if (!seen.insert(label).second) {
      fail(absl::StrCat("label name '", label, "' is repeated"));
    }
  }
  return status;
}

// Returns how `family` differs from the given definition, as in "metric x is
// already registered <difference>", or "" if it does not.
std::string Difference(const internal::FamilyBase& family, MetricType type,
                       absl::string_view help,
                       const std::vector<std::string>& label_names,
                       const std::vector<double>& bounds) {
  if (family.type() != type) {
    if (family.type() == MetricType::kCallbackGauge) {
      return "as a callback gauge";
    }
    if (family.type() == MetricType::kCallbackCounter) {
      return "as a callback counter";
    }
    return absl::StrCat("as a ", TypeName(family.type()));
  }
  if (family.label_names() != label_names) {
    return absl::StrCat("with labels [",
                        absl::StrJoin(family.label_names(), ","), "]");
  }
  if (family.help() != help) {
    return absl::StrCat("with help \"", family.help(), "\"");
  }
  if (family.bounds() != bounds) return "with other bucket bounds";
  return "";
}

// A gauge or counter whose value is sampled from a callback at render time.
class CallbackMetric final : public internal::FamilyBase {
 public:
  CallbackMetric(MetricType type, std::string name, std::string help,
                 std::function<double()> sample)
      : FamilyBase(type, std::move(name), std::move(help), {}, {}),
        sample_(std::move(sample)) {}

  void AppendTo(std::string* out) const override {
    AppendHeader(out);
    AppendSample(name(), "", sample_(), out);
  }

 private:
  const std::function<double()> sample_;
};

}  // namespace

std::string PrometheusContentType() {
  return "text/plain; version=0.0.4; charset=utf-8";
}

// ---- Counter, Gauge, Histogram ----------------------------------------------

void Counter::Increment(double v) {
  if (!(v >= 0)) return;  // Also NaN.
  AtomicAdd(value_, v);
}

void Gauge::Add(double v) { AtomicAdd(value_, v); }

Histogram::Histogram(const std::vector<double>* bounds)
    : bounds_(bounds),
      counts_(new std::atomic<uint64_t>[bounds->size() + 1]()) {}

void Histogram::Observe(double v) {
  if (std::isnan(v)) return;
  const size_t bucket =
      std::lower_bound(bounds_->begin(), bounds_->end(), v) - bounds_->begin();
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(sum_, v);
}

uint64_t Histogram::Count() const {
  uint64_t count = 0;
  for (size_t i = 0; i <= bounds_->size(); ++i) {
    count += counts_[i].load(std::memory_order_relaxed);
  }
  return count;
}

// ---- Families
// -----------------------------------------------------------------

namespace internal {

FamilyBase::FamilyBase(MetricType type, std::string name, std::string help,
                       std::vector<std::string> label_names,
                       std::vector<double> bounds)
    : type_(type),
      name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      bounds_(std::move(bounds)) {}

FamilyBase::~FamilyBase() = default;

void FamilyBase::AppendHeader(std::string* out) const {
  absl::StrAppend(out, "# HELP ", name_, " ");
  AppendEscaped(help_, /*quote=*/false, out);
  absl::StrAppend(out, "\n# TYPE ", name_, " ", TypeName(type_), "\n");
}

}  // namespace internal

template <typename T>
Family<T>::Family(MetricType type, std::string name, std::string help,
                  std::vector<std::string> names, std::vector<double> bounds)
    : FamilyBase(type, std::move(name), std::move(help), std::move(names),
                 std::move(bounds)),
      invalid_series_(NewSeries()) {
  // A family without labels has its one series from the start, so that it
  // renders as 0 before its first update.
  if (label_names().empty()) WithLabels({});
}

template <typename T>
std::unique_ptr<T> Family<T>::NewSeries() const {
  if constexpr (std::is_same_v<T, Histogram>) {
    return std::unique_ptr<Histogram>(new Histogram(&bounds()));
  } else {
    return std::make_unique<T>();
  }
}

template <typename T>
T& Family<T>::WithLabels(const std::vector<std::string>& label_values) {
  if (label_values.size() != label_names().size()) {
    label_errors_.fetch_add(1, std::memory_order_relaxed);
    return *invalid_series_;
  }
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = series_.find(label_values);
    if (it != series_.end()) return *it->second;
  }
  absl::MutexLock lock(&mu_);
  std::unique_ptr<T>& series = series_[label_values];
  if (series == nullptr) series = NewSeries();
  return *series;
}

template <typename T>
void Family<T>::AppendTo(std::string* out) const {
  absl::ReaderMutexLock lock(&mu_);
  if (series_.empty()) return;
  AppendHeader(out);
  for (const auto& [label_values, series] : series_) {
    const std::string labels = FormatLabels(label_names(), label_values);
    if constexpr (std::is_same_v<T, Histogram>) {
      const std::string bucket_name = absl::StrCat(name(), "_bucket");
      const std::string prefix =
          labels.empty() ? "" : absl::StrCat(labels, ",");
      uint64_t cumulative = 0;
      for (size_t i = 0; i <= bounds().size(); ++i) {
        cumulative += series->counts_[i].load(std::memory_order_relaxed);
        const double le = i < bounds().size()
                              ? bounds()[i]
                              : std::numeric_limits<double>::infinity();
        AppendSample(bucket_name,
                     absl::StrCat(prefix, "le=\"", FormatValue(le), "\""),
                     static_cast<double>(cumulative), out);
      }
      AppendSample(absl::StrCat(name(), "_sum"), labels, series->Sum(), out);
      AppendSample(absl::StrCat(name(), "_count"), labels,
                   static_cast<double>(cumulative), out);
    } else {
      AppendSeries(name(), labels, *series, out);
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// ---- MetricsRegistry
// ----------------------------------------------------------

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

template <typename T>
Family<T>& MetricsRegistry::Register(MetricType type, absl::string_view name,
                                     absl::string_view help,
                                     std::vector<std::string> label_names,
                                     std::vector<double> bounds) {
  absl::Status status = CheckDefinition(type, name, help, label_names, &bounds);
  const auto make_family = [&] {
    return new Family<T>(type, std::string(name), std::string(help),
                         std::move(label_names), std::move(bounds));
  };
  absl::MutexLock lock(&mu_);
  if (status.ok()) {
    auto it = families_.find(name);
    if (it == families_.end()) {
      Family<T>* family = make_family();
      families_.emplace(std::string(name), absl::WrapUnique(family));
      return *family;
    }
    const std::string difference =
        Difference(*it->second, type, help, label_names, bounds);
    if (difference.empty()) return static_cast<Family<T>&>(*it->second);
    status = absl::AlreadyExistsError(
        absl::StrCat("metric ", name, " is already registered ", difference));
  }
  errors_.push_back(status);
  Family<T>* family = make_family();
  rejected_.emplace_back(family);
  return *family;
}

Family<Counter>& MetricsRegistry::AddCounter(
    absl::string_view name, absl::string_view help,
    std::vector<std::string> label_names) {
  return Register<Counter>(MetricType::kCounter, name, help,
                           std::move(label_names), {});
}

Family<Gauge>& MetricsRegistry::AddGauge(absl::string_view name,
                                         absl::string_view help,
                                         std::vector<std::string> label_names) {
  return Register<Gauge>(MetricType::kGauge, name, help, std::move(label_names),
                         {});
}

Family<Histogram>& MetricsRegistry::AddHistogram(
    absl::string_view name, absl::string_view help,
    std::vector<std::string> label_names, std::vector<double> bounds) {
  return Register<Histogram>(MetricType::kHistogram, name, help,
                             std::move(label_names), std::move(bounds));
}

void MetricsRegistry::AddCallbackGauge(absl::string_view name,
                                       absl::string_view help,
                                       std::function<double()> sample) {
  AddCallback(MetricType::kCallbackGauge, name, help, std::move(sample));
}

void MetricsRegistry::AddCallbackCounter(absl::string_view name,
                                         absl::string_view help,
                                         std::function<double()> sample) {
  AddCallback(MetricType::kCallbackCounter, name, help, std::move(sample));
}

void MetricsRegistry::AddCallback(internal::MetricType type,
                                  absl::string_view name,
                                  absl::string_view help,
                                  std::function<double()> sample) {
  std::vector<double> no_bounds;
  absl::Status status = CheckDefinition(type, name, help, {}, &no_bounds);
  if (status.ok() && sample == nullptr) {
    status = absl::InvalidArgumentError(
        absl::StrCat("metric ", name, ": callback must not be empty"));
  }
  absl::MutexLock lock(&mu_);
  if (status.ok()) {
    auto it = families_.find(name);
    if (it == families_.end()) {
      families_.emplace(
          std::string(name),
          std::make_unique<CallbackMetric>(
              type, std::string(name), std::string(help), std::move(sample)));
      return;
    }
    status = absl::AlreadyExistsError(absl::StrCat(
        "metric ", name,
        " is already registered; callback metrics cannot be shared"));
  }
  errors_.push_back(status);
}

std::string MetricsRegistry::Render() const {
  // Families are never removed, so the pointers stay valid after unlocking;
  // rendering unlocked lets callbacks use the registry.
  std::vector<const internal::FamilyBase*> families;
  {
    absl::MutexLock lock(&mu_);
    families.reserve(families_.size());
    for (const auto& entry : families_) families.push_back(entry.second.get());
  }
  std::string out;
  for (const internal::FamilyBase* family : families) family->AppendTo(&out);
  return out;
}

absl::Status MetricsRegistry::Validate() const {
  std::vector<absl::Status> problems;
  {
    absl::MutexLock lock(&mu_);
    problems = errors_;
    const auto check_labels = [&problems](const internal::FamilyBase& family) {
      if (family.label_errors() == 0) return;
      problems.push_back(absl::InvalidArgumentError(absl::StrFormat(
          "metric %s: %d WithLabels() call(s) with other than %d label values",
          family.name(), family.label_errors(), family.label_names().size())));
    };
    for (const auto& entry : families_) check_labels(*entry.second);
    for (const auto& family : rejected_) check_labels(*family);
  }
  if (problems.empty()) return absl::OkStatus();
  std::vector<absl::string_view> messages;
  for (const absl::Status& problem : problems) {
    messages.push_back(problem.message());
  }
  return absl::Status(problems.front().code(), absl::StrJoin(messages, "; "));
}

std::vector<double> MetricsRegistry::DefaultLatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
          0.1,    0.25,  0.5,    1,     2.5,  5,     10};
}

}  // namespace georisk::common
