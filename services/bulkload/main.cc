// georisk-bulkload: the initial load of a large graph into a new graphstore
// data directory, offline, through RocksDB table files (docs/storage.md,
// "Bulk load"). Run it before graphstore first starts on the directory (it
// takes the database's lock, so never beside a running graphstore):
//
//   georisk-bulkload --data_dir=/var/lib/georisk/graph \
//     --input=entities.jsonl,edges.jsonl,signals.jsonl
//
// Prints what was loaded and every record that was not (file:line: field:
// reason); exits 0 when the load committed (rejected records are reported,
// the good ones kept, as an import does), 1 on an error (nothing loaded).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/bulkload/load_files.h"
#include "services/common/main_support.h"
#include "storage/rocksdb_graph_store.h"

ABSL_FLAG(std::string, data_dir, "",
          "The graphstore data directory to load (graphstore's --data_dir; "
          "the database is <data_dir>/graph, as graphstore opens it): new, "
          "or holding a database that never committed. Required.");
ABSL_FLAG(std::vector<std::string>, input, {},
          "The files to load, comma-separated, in order (entities before "
          "the edges and links that name them). Required.");
ABSL_FLAG(std::string, format, "auto",
          "Format of every input: jsonl, csv-entities, csv-edges, ftm, "
          "csl-csv, csl-json, or auto (detected per file).");
ABSL_FLAG(std::string, work_dir, "",
          "Where the table files are built; default <data_dir>/bulkload.tmp "
          "(the same file system, so that ingestion links them).");
ABSL_FLAG(int, threads, 2, "Threads that encode, sort and write.");
ABSL_FLAG(int, show_rejections, 50,
          "Rejected records to print (all are counted).");

namespace {

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "georisk-bulkload: %s\n", status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  georisk::common::InitMain(
      "georisk-bulkload",
      "georisk-bulkload: loads a graph into a new graphstore data directory "
      "through RocksDB table files.",
      argc, argv);
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  const std::vector<std::string> files = absl::GetFlag(FLAGS_input);
  if (data_dir.empty() || files.empty()) {
    return Fail(absl::InvalidArgumentError("--data_dir and --input: required"));
  }
  std::string work_dir = absl::GetFlag(FLAGS_work_dir);
  if (work_dir.empty()) work_dir = data_dir + "/bulkload.tmp";

  std::error_code error;
  std::filesystem::create_directories(data_dir, error);
  if (error) {
    return Fail(absl::InternalError(
        absl::StrCat("creating ", data_dir, ": ", error.message())));
  }
  georisk::storage::RocksDbGraphStoreOptions options;
  options.path = data_dir + "/graph";  // As graphstore's main.cc.
  absl::StatusOr<std::unique_ptr<georisk::storage::RocksDbGraphStore>> store =
      georisk::storage::RocksDbGraphStore::Open(options);
  if (!store.ok()) return Fail(store.status());

  georisk::bulkload::LoadFilesOptions load;
  load.work_dir = work_dir;
  load.format = absl::GetFlag(FLAGS_format);
  load.threads = absl::GetFlag(FLAGS_threads);
  const absl::Time start = absl::Now();
  load.started = start;
  absl::StatusOr<georisk::bulkload::LoadReport> report =
      georisk::bulkload::LoadFiles(store->get(), files, load);
  std::error_code ignored;
  std::filesystem::remove_all(work_dir, ignored);
  if (!report.ok()) return Fail(report.status());
  const georisk::storage::BulkLoadResult& r = report->result;
  const int shown = absl::GetFlag(FLAGS_show_rejections);
  for (size_t i = 0; i < report->rejections.size(); ++i) {
    if (static_cast<int>(i) >= shown) {
      std::printf("... and %zu more rejected records\n",
                  report->rejections.size() - i);
      break;
    }
    const georisk::bulkload::FileRejection& x = report->rejections[i];
    std::printf("rejected %s:%lld: %s%s%s\n", x.file.c_str(),
                static_cast<long long>(x.line), x.field.c_str(),
                x.field.empty() ? "" : ": ", x.reason.c_str());
  }
  std::printf(
      "loaded %s/graph at sequence %lld: %lld records read, %lld mutations: "
      "%lld "
      "applied, %lld unchanged, %lld duplicates, %zu records rejected; "
      "%lld entities, %lld edges, %lld signals, %lld links; %lld keys, "
      "%.1f MiB of tables; %.1f s (tables %.1f s, ingestion %.2f s)\n",
      data_dir.c_str(), static_cast<long long>(r.sequence),
      static_cast<long long>(report->records),
      static_cast<long long>(report->mutations),
      static_cast<long long>(r.applied), static_cast<long long>(r.unchanged),
      static_cast<long long>(r.duplicates), report->rejections.size(),
      static_cast<long long>(r.entities), static_cast<long long>(r.edges),
      static_cast<long long>(r.signals), static_cast<long long>(r.links),
      static_cast<long long>(r.keys), r.file_bytes / 1048576.0,
      absl::ToDoubleSeconds(absl::Now() - start),
      absl::ToDoubleSeconds(r.write_time),
      absl::ToDoubleSeconds(r.ingest_time));
  return 0;
}
