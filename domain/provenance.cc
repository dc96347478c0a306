#include "domain/provenance.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace georisk::domain {
namespace {

constexpr char kTimeFormat[] = "%Y-%m-%dT%H:%M:%SZ";
constexpr absl::string_view kSourcePrefix = "source:";
constexpr absl::string_view kFetched = " fetched ";
constexpr absl::string_view kImportPrefix = "import:";
constexpr absl::string_view kBulkLoadPrefix = "bulkload:";
constexpr absl::string_view kStarted = " started ";
constexpr absl::string_view kVersion = " version:";

std::string FormatUtc(absl::Time t) {
  return absl::FormatTime(kTimeFormat, t, absl::UTCTimeZone());
}

bool ParseUtc(absl::string_view text, absl::Time* t) {
  std::string error;
  return absl::ParseTime(kTimeFormat, text, absl::UTCTimeZone(), t, &error);
}

absl::string_view BaseName(absl::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == absl::string_view::npos ? path : path.substr(slash + 1);
}

// `s` cut to at most `n` bytes, not inside a UTF-8 character.
absl::string_view CutUtf8(absl::string_view s, size_t n) {
  if (s.size() <= n) return s;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

// "<prefix><first file>[ and N more] started <time>", at most `max_bytes`.
std::string FilesOrigin(absl::string_view prefix,
                        const std::vector<std::string>& files,
                        absl::Time started, size_t max_bytes) {
  const std::string tail = absl::StrCat(kStarted, FormatUtc(started));
  std::string more;
  if (files.size() > 1) more = absl::StrCat(" and ", files.size() - 1, " more");
  const absl::string_view first =
      files.empty() ? absl::string_view() : BaseName(files[0]);
  const size_t fixed = prefix.size() + more.size() + tail.size();
  const size_t room = max_bytes > fixed ? max_bytes - fixed : 0;
  return absl::StrCat(prefix, CutUtf8(first, room), more, tail);
}

// Reads "<name> started <time>" (the last " started " counts) into `out`.
bool ParseFilesOrigin(absl::string_view rest, Origin::Kind kind, Origin* out) {
  const size_t started = rest.rfind(kStarted);
  if (started == absl::string_view::npos) return false;
  absl::Time t;
  if (!ParseUtc(rest.substr(started + kStarted.size()), &t)) return false;
  out->kind = kind;
  out->name = std::string(rest.substr(0, started));
  out->time = t;
  return true;
}

}  // namespace

std::string SourceOrigin(absl::string_view name, absl::Time fetched_at,
                         absl::string_view validator) {
  return absl::StrCat(kSourcePrefix, name, kFetched, FormatUtc(fetched_at), " ",
                      validator);
}

std::string ImportOrigin(const std::vector<std::string>& files,
                         absl::Time started, size_t max_bytes) {
  return FilesOrigin(kImportPrefix, files, started, max_bytes);
}

std::string BulkLoadOrigin(const std::vector<std::string>& files,
                           absl::Time started, size_t max_bytes) {
  return FilesOrigin(kBulkLoadPrefix, files, started, max_bytes);
}

Origin ParseOrigin(absl::string_view origin) {
  Origin out;
  absl::string_view rest = origin;
  if (absl::ConsumePrefix(&rest, kSourcePrefix)) {
    const size_t fetched = rest.find(kFetched);
    if (fetched == absl::string_view::npos || fetched == 0) return Origin();
    absl::string_view after = rest.substr(fetched + kFetched.size());
    const size_t space = after.find(' ');
    if (space == absl::string_view::npos) return Origin();
    absl::Time t;
    if (!ParseUtc(after.substr(0, space), &t)) return Origin();
    absl::string_view validator = after.substr(space + 1);
    if (!absl::StartsWith(validator, "etag:") &&
        !absl::StartsWith(validator, "sha256:")) {
      return Origin();
    }
    const size_t version = validator.rfind(kVersion);
    if (version != absl::string_view::npos) {
      out.delta_version =
          std::string(validator.substr(version + kVersion.size()));
      validator = validator.substr(0, version);
    }
    out.kind = Origin::Kind::kSource;
    out.name = std::string(rest.substr(0, fetched));
    out.time = t;
    out.validator = std::string(validator);
    return out;
  }
  if (absl::ConsumePrefix(&rest, kImportPrefix)) {
    return ParseFilesOrigin(rest, Origin::Kind::kImport, &out) ? out : Origin();
  }
  if (absl::ConsumePrefix(&rest, kBulkLoadPrefix)) {
    return ParseFilesOrigin(rest, Origin::Kind::kBulkLoad, &out) ? out
                                                                 : Origin();
  }
  return Origin();
}

}  // namespace georisk::domain
