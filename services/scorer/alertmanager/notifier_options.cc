// File: services/scorer/alertmanager/notifier_options.cc
//
// Validation of AlertmanagerNotifierOptions; see notifier_options.h.

#include "services/scorer/alertmanager/notifier_options.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace georisk::scorer {
namespace {

absl::Status InvalidOption(absl::string_view option, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("AlertmanagerNotifierOptions.", option, ": ", why));
}

bool IsLabelName(absl::string_view name) {
  if (name.empty() ||
      absl::ascii_isdigit(static_cast<unsigned char>(name[0]))) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

absl::Status CheckGeneratorBase(absl::string_view base) {
  for (char c : base) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
      return InvalidOption("generator_url_base",
                           "whitespace, control or non-ASCII characters");
    }
  }
  absl::string_view rest = base;
  if (!absl::ConsumePrefix(&rest, "http://") &&
      !absl::ConsumePrefix(&rest, "https://") &&
      !absl::ConsumePrefix(&rest, "HTTP://") &&
      !absl::ConsumePrefix(&rest, "HTTPS://")) {
    return InvalidOption(
        "generator_url_base",
        absl::StrCat("\"", base, "\" is not an absolute http(s) URL"));
  }
  if (rest.empty() || rest[0] == '/' || rest[0] == ':') {
    return InvalidOption("generator_url_base",
                         absl::StrCat("\"", base, "\" has no host"));
  }
  if (rest.find_first_of("?#") != absl::string_view::npos) {
    return InvalidOption(
        "generator_url_base",
        absl::StrCat("\"", base, "\" must not have a query or fragment"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateAlertmanagerNotifierOptions(
    const AlertmanagerNotifierOptions& o) {
  if (o.urls.empty()) return InvalidOption("urls", "at least one is required");
  for (size_t i = 0; i < o.urls.size(); ++i) {
    const std::string name = absl::StrCat("urls[", i, "]");
    absl::StatusOr<HttpUrl> url = ParseHttpUrl(o.urls[i]);
    if (!url.ok()) return InvalidOption(name, url.status().message());
    if (o.urls[i].find_first_of("?#") != std::string::npos) {
      return InvalidOption(name, absl::StrCat("\"", o.urls[i],
                                              "\" must not have a query or "
                                              "fragment"));
    }
  }
  const std::pair<const char*, absl::Duration> positive[] = {
      {"resend_interval", o.resend_interval},
      {"request_timeout", o.request_timeout},
      {"retry_initial_backoff", o.retry_initial_backoff},
      {"retry_max_backoff", o.retry_max_backoff},
      {"idle_wakeup", o.idle_wakeup},
  };
  for (const auto& [name, d] : positive) {
    if (d <= absl::ZeroDuration() || d == absl::InfiniteDuration()) {
      return InvalidOption(name,
                           absl::StrCat("must be positive and finite, not ",
                                        absl::FormatDuration(d)));
    }
  }
  if (o.retry_max_backoff < o.retry_initial_backoff) {
    return InvalidOption("retry_max_backoff",
                         "must not be below retry_initial_backoff");
  }
  if (o.stop_timeout < absl::ZeroDuration() ||
      o.stop_timeout == absl::InfiniteDuration()) {
    return InvalidOption("stop_timeout", "must be >= 0 and finite");
  }
  if (!o.generator_url_base.empty()) {
    if (absl::Status s = CheckGeneratorBase(o.generator_url_base); !s.ok()) {
      return s;
    }
  }
  for (const auto& [name, value] : o.external_labels) {
    if (!IsLabelName(name) || absl::StartsWith(name, "__")) {
      return InvalidOption(
          "external_labels",
          absl::StrCat("\"", name,
                       "\" is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, not "
                       "starting with __)"));
    }
  }
  if (o.max_alerts_per_request < 1) {
    return InvalidOption("max_alerts_per_request", "must be at least 1");
  }
  HttpClientOptions http;
  http.tls = o.tls;
  http.auth = o.auth;
  if (absl::Status s = ValidateHttpClientOptions(http); !s.ok()) {
    return InvalidOption("tls/auth", s.message());
  }
  return absl::OkStatus();
}

}  // namespace georisk::scorer
