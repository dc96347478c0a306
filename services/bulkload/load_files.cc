#include "services/bulkload/load_files.h"

#include <algorithm>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/status_macros.h"
#include "domain/provenance.h"
#include "formats/parsers.h"
#include "formats/record_parser.h"

namespace georisk::bulkload {
namespace {

using formats::Format;
using formats::FtmPass;

// Mutations handed to the loader at once.
constexpr size_t kBatchMutations = 50000;

// Where the mutations from `first` on came from (one entry per record).
struct Origin {
  int64_t first = 0;
  int file = 0;
  int64_t line = 0;
};

class Loader {
 public:
  Loader(storage::BulkLoader* loader, LoadReport* report)
      : loader_(loader), report_(report) {}

  absl::Status ReadFile(int index, const std::string& path, Format format,
                        FtmPass pass) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
    formats::ParserOptions options;
    options.ftm_pass = pass;
    ASSIGN_OR_RETURN(std::unique_ptr<formats::RecordParser> parser,
                     formats::MakeParser(format, &in, options));
    formats::ParsedRecord record;
    while (parser->Next(&record)) {
      ++report_->records;
      if (record.rejected()) {
        report_->rejections.push_back(
            {path, record.line, record.field, record.reason});
        continue;
      }
      origins_.push_back({report_->mutations, index, record.line});
      for (v1::Mutation& m : record.mutations) {
        pending_.push_back(std::move(m));
        ++report_->mutations;
      }
      if (pending_.size() >= kBatchMutations) RETURN_IF_ERROR(Flush());
    }
    if (parser->io_failed()) {
      return absl::DataLossError(absl::StrCat("error reading ", path));
    }
    return absl::OkStatus();
  }

  absl::Status Flush() {
    std::vector<const v1::Mutation*> batch;
    batch.reserve(pending_.size());
    for (const v1::Mutation& m : pending_) batch.push_back(&m);
    RETURN_IF_ERROR(loader_->AddBatch(batch));
    pending_.clear();
    return absl::OkStatus();
  }

  // The file and line of mutation `index`.
  const Origin& OriginOf(int64_t index) const {
    auto it = std::upper_bound(
        origins_.begin(), origins_.end(), index,
        [](int64_t i, const Origin& o) { return i < o.first; });
    return *std::prev(it);
  }

 private:
  storage::BulkLoader* const loader_;
  LoadReport* const report_;
  std::vector<v1::Mutation> pending_;
  std::vector<Origin> origins_;
};

}  // namespace

absl::StatusOr<LoadReport> LoadFiles(storage::RocksDbGraphStore* store,
                                     const std::vector<std::string>& files,
                                     const LoadFilesOptions& options) {
  // Every file's format first: a bad name or format loads nothing.
  std::vector<Format> formats;
  for (const std::string& path : files) {
    ASSIGN_OR_RETURN(Format format, formats::ParseFormatName(options.format));
    if (format == Format::kAuto) {
      std::ifstream in(path, std::ios::binary);
      if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
      std::string head(64 << 10, '\0');
      in.read(head.data(), static_cast<std::streamsize>(head.size()));
      head.resize(static_cast<size_t>(in.gcount()));
      absl::StatusOr<Format> detected = formats::DetectFormat(path, head);
      if (!detected.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": ", detected.status().message()));
      }
      format = *detected;
    }
    formats.push_back(format);
  }
  storage::BulkLoadOptions load_options;
  load_options.work_dir = options.work_dir;
  load_options.threads = options.threads;
  load_options.origin = domain::BulkLoadOrigin(
      files,
      options.started == absl::InfinitePast() ? absl::Now() : options.started,
      storage::kMaxOriginBytes);
  ASSIGN_OR_RETURN(std::unique_ptr<storage::BulkLoader> bulk,
                   storage::BulkLoader::Start(store, load_options));
  LoadReport report;
  Loader loader(bulk.get(), &report);
  for (size_t i = 0; i < files.size(); ++i) {
    const int index = static_cast<int>(i);
    if (formats[i] == Format::kFtm) {
      RETURN_IF_ERROR(
          loader.ReadFile(index, files[i], formats[i], FtmPass::kNodes));
      RETURN_IF_ERROR(
          loader.ReadFile(index, files[i], formats[i], FtmPass::kOwnerships));
    } else {
      RETURN_IF_ERROR(
          loader.ReadFile(index, files[i], formats[i], FtmPass::kAll));
    }
  }
  RETURN_IF_ERROR(loader.Flush());
  ASSIGN_OR_RETURN(report.result, bulk->Finish());
  for (const storage::MutationRejection& r : report.result.rejections) {
    const Origin& origin = loader.OriginOf(r.index);
    report.rejections.push_back(
        {files[origin.file], origin.line, r.field, r.reason});
  }
  return report;
}

}  // namespace georisk::bulkload
