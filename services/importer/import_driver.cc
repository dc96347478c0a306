#include "services/importer/import_driver.h"

#include <unistd.h>

#include <algorithm>
#include <deque>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "domain/provenance.h"
#include "formats/parsers.h"
#include "georisk/v1/ingest.grpc.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "services/common/log.h"

namespace georisk::importer {

using common::kExitFailed;
using common::kExitOk;
using common::kExitRejected;
using common::kExitUnavailable;
using common::kExitUsage;

namespace {

using formats::Format;
using formats::FtmPass;
using formats::ParsedRecord;

// Rejections shown on the terminal; the rest go to --rejections.
constexpr int kShownRejections = 20;
constexpr int kShownWarnings = 10;
// How often the bar is redrawn.
constexpr absl::Duration kBarInterval = absl::Milliseconds(100);

std::string Thousands(int64_t n) {
  std::string digits = absl::StrCat(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return n < 0 ? "-" + out : out;
}

std::string Megabytes(int64_t bytes) {
  return absl::StrFormat("%.1f MB", static_cast<double>(bytes) / 1e6);
}

// Writes stream messages on a thread of its own, so that parsing (the
// caller's thread) and sending overlap, and so that the stream's transport is
// served while files are parsed: the server's HTTP/2 pings are answered at
// once, and gRPC's flow-control window grows with them instead of staying at
// 64 KiB.
class Sender {
 public:
  Sender(grpc::ClientWriter<v1::IngestRequest>* writer, size_t depth)
      : writer_(writer), depth_(depth), thread_([this] { Run(); }) {}
  ~Sender() { Close(); }

  // Queues `request` (waiting while `depth` messages are queued); false once
  // the stream broke.
  bool Send(v1::IngestRequest request) {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](Sender* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) {
          return s->broken_ || s->queue_.size() < s->depth_;
        },
        this));
    if (broken_) return false;
    queue_.push_back(std::move(request));
    return true;
  }

  // Waits until every queued message is written; false if the stream broke.
  bool Close() {
    {
      absl::MutexLock lock(&mu_);
      closed_ = true;
    }
    if (thread_.joinable()) thread_.join();
    absl::MutexLock lock(&mu_);
    return !broken_;
  }

 private:
  void Run() {
    while (true) {
      v1::IngestRequest request;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](Sender* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) {
              return s->closed_ || !s->queue_.empty();
            },
            this));
        if (queue_.empty()) return;  // Closed.
        request = std::move(queue_.front());
        queue_.pop_front();
      }
      if (!writer_->Write(request)) {
        absl::MutexLock lock(&mu_);
        broken_ = true;
        queue_.clear();
        return;
      }
    }
  }

  grpc::ClientWriter<v1::IngestRequest>* const writer_;
  const size_t depth_;
  absl::Mutex mu_;
  std::deque<v1::IngestRequest> queue_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// The N of ingest's "resend from index N" in `message`, or 0.
int64_t ResendIndex(absl::string_view message) {
  constexpr absl::string_view kResend = "resend from index ";
  const size_t at = message.rfind(kResend);
  if (at == absl::string_view::npos) return 0;
  message.remove_prefix(at + kResend.size());
  size_t digits = 0;
  while (digits < message.size() && absl::ascii_isdigit(message[digits])) {
    ++digits;
  }
  int64_t index = 0;
  if (!absl::SimpleAtoi(message.substr(0, digits), &index)) return 0;
  return index;
}

struct InputFile {
  std::string path;
  Format format;
  int64_t size;
};

class Importer {
 public:
  explicit Importer(const ImportOptions& options) : options_(options) {}

  int Run() {
    if (int code = Prepare(); code != kExitOk) return code;
    if (int code = Connect(); code != kExitOk) return code;
    start_ = absl::Now();
    bool ok = true;
    for (size_t i = 0; ok && i < files_.size(); ++i) {
      if (files_[i].format == Format::kFtm) {
        ok = SendFile(static_cast<int>(i), FtmPass::kNodes) &&
             SendFile(static_cast<int>(i), FtmPass::kOwnerships);
      } else {
        ok = SendFile(static_cast<int>(i), FtmPass::kAll);
      }
    }
    if (ok) ok = Flush();
    return Finish(ok);
  }

 private:
  int Prepare() {
    absl::StatusOr<Format> format = formats::ParseFormatName(options_.format);
    if (!format.ok()) return Usage(format.status().message());
    if (options_.files.empty()) return Usage("no files to import");
    if (options_.records_per_message < 1) {
      return Usage("--records_per_message must be >= 1");
    }
    if (options_.resume_from < 0) return Usage("--resume_from must be >= 0");
    for (const std::string& source : options_.snapshot_sources) {
      if (source.empty()) return Usage("--snapshot_source: an empty source");
    }
    for (const std::string& path : options_.files) {
      std::ifstream in(path, std::ios::binary | std::ios::ate);
      if (!in) return Usage(absl::StrCat("cannot read ", path));
      InputFile file{path, *format, static_cast<int64_t>(in.tellg())};
      if (file.format == Format::kAuto) {
        std::string head(64 << 10, '\0');
        in.seekg(0);
        in.read(head.data(), static_cast<std::streamsize>(head.size()));
        head.resize(static_cast<size_t>(in.gcount()));
        absl::StatusOr<Format> detected = formats::DetectFormat(path, head);
        if (!detected.ok()) return Usage(detected.status().message());
        file.format = *detected;
      }
      total_bytes_ += file.size * (file.format == Format::kFtm ? 2 : 1);
      if (file.format == Format::kFtm && options_.source.empty() &&
          options_.snapshot_sources.size() > 1) {
        return Usage(absl::StrCat(
            path,
            " is FollowTheMoney, whose records take one source: with several "
            "snapshot sources, say which with --source"));
      }
      files_.push_back(std::move(file));
    }
    if (!options_.rejections_path.empty()) {
      rejections_file_ = std::fopen(options_.rejections_path.c_str(), "w");
      if (rejections_file_ == nullptr) {
        return Usage(absl::StrCat("cannot write ", options_.rejections_path));
      }
    }
    switch (options_.progress) {
      case ProgressMode::kAuto:
        bar_ = isatty(fileno(options_.out)) != 0;
        lines_ = !bar_;
        break;
      case ProgressMode::kBar:
        bar_ = true;
        break;
      case ProgressMode::kLines:
        lines_ = true;
        break;
      case ProgressMode::kNone:
        break;
    }
    return kExitOk;
  }

  int Usage(absl::string_view message) {
    result_.status = absl::InvalidArgumentError(message);
    std::fprintf(options_.err, "georiskctl import: %s\n",
                 std::string(message).c_str());
    return kExitUsage;
  }

  int Connect() {
    std::shared_ptr<grpc::Channel> channel = options_.channel;
    if (channel == nullptr) {
      grpc::ChannelArguments args;
      // The summary lists every rejection.
      args.SetMaxReceiveMessageSize(256 << 20);
      channel = grpc::CreateCustomChannel(
          options_.ingest_address, grpc::InsecureChannelCredentials(), args);
    }
    // Connected, or failed: a refused connection is reported at once rather
    // than retried until the timeout.
    const absl::Time deadline = absl::Now() + options_.connect_timeout;
    grpc_connectivity_state state =
        options_.check_connection ? channel->GetState(/*try_to_connect=*/true)
                                  : GRPC_CHANNEL_READY;
    std::string why;
    while (state != GRPC_CHANNEL_READY) {
      if (state == GRPC_CHANNEL_TRANSIENT_FAILURE ||
          state == GRPC_CHANNEL_SHUTDOWN) {
        why = "the connection failed";
        break;
      }
      if (!channel->WaitForStateChange(state, absl::ToChronoTime(deadline))) {
        why = absl::StrCat("no connection within ",
                           absl::FormatDuration(options_.connect_timeout));
        break;
      }
      state = channel->GetState(/*try_to_connect=*/true);
    }
    if (!why.empty()) {
      std::fprintf(options_.err,
                   "georiskctl import: ingest at %s is not reachable (%s). Is "
                   "it running? Try 'georiskctl status'.\n",
                   options_.ingest_address.c_str(), why.c_str());
      result_.status = absl::UnavailableError(
          absl::StrCat("ingest at ", options_.ingest_address,
                       " is not reachable (", why, ")"));
      return kExitUnavailable;
    }
    stub_ = v1::Ingest::NewStub(channel);
    writer_ = stub_->Ingest(&context_, &response_);
    sender_ = std::make_unique<Sender>(writer_.get(), /*depth=*/4);
    v1::IngestOptions* o = request_.mutable_options();
    for (size_t i = 0; i < options_.snapshot_sources.size(); ++i) {
      if (i == 0) {
        o->set_snapshot_source(options_.snapshot_sources[i]);
      } else {
        o->add_snapshot_sources(options_.snapshot_sources[i]);
      }
    }
    o->set_dry_run(options_.dry_run);
    // A manual import names its file and when it started (ingest takes
    // origins of at most 128 bytes).
    o->set_origin(options_.origin.empty()
                      ? domain::ImportOrigin(options_.files, absl::Now(), 128)
                      : options_.origin);
    return kExitOk;
  }

  bool SendFile(int index, FtmPass pass) {
    const InputFile& file = files_[index];
    std::ifstream in(file.path, std::ios::binary);
    if (!in) {
      io_error_ = absl::StrCat("cannot read ", file.path);
      return false;
    }
    formats::ParserOptions parser_options;
    parser_options.max_record_bytes =
        static_cast<size_t>(options_.max_record_bytes);
    parser_options.ftm_pass = pass;
    parser_options.source = options_.source;
    if (parser_options.source.empty() && file.format == Format::kFtm &&
        options_.snapshot_sources.size() == 1) {
      parser_options.source = options_.snapshot_sources.front();
    }
    auto parser = formats::MakeParser(file.format, &in, parser_options);
    if (!parser.ok()) {
      io_error_ = std::string(parser.status().message());
      return false;
    }
    current_file_ = index;
    current_parser_ = parser->get();
    ParsedRecord record;
    int64_t since_progress = 0;
    while ((*parser)->Next(&record)) {
      ++records_read_;
      if (record.rejected()) {
        ++parse_rejected_;
        Rejected(index, record.line, -1, record.field, record.reason, "");
      } else {
        map_.Add(index, record.line, static_cast<int>(record.mutations.size()));
        for (v1::Mutation& m : record.mutations) {
          if (skipped_ < options_.resume_from) {
            ++skipped_;  // Handled by the import this one resumes.
            continue;
          }
          request_bytes_ += static_cast<int64_t>(m.ByteSizeLong());
          if (InSnapshot(m)) ++signals_and_edges_;
          *request_.add_records() = std::move(m);
        }
        if (request_.records_size() >= options_.records_per_message ||
            request_bytes_ >= options_.max_message_bytes) {
          if (!Flush()) return false;
        }
      }
      if (++since_progress >= 256) {
        since_progress = 0;
        Progress(false);
      }
    }
    if ((*parser)->io_failed()) {
      io_error_ = absl::StrCat("error reading ", file.path);
      return false;
    }
    done_bytes_ += file.size;
    current_parser_ = nullptr;
    Progress(false);
    return true;
  }

  // A signal or edge upsert a snapshot of options_.snapshot_sources could
  // end: of one of those sources (any source without a snapshot).
  bool InSnapshot(const v1::Mutation& m) const {
    const std::vector<std::string>& snapshot = options_.snapshot_sources;
    auto of_snapshot = [&](const std::string& source) {
      return snapshot.empty() || std::find(snapshot.begin(), snapshot.end(),
                                           source) != snapshot.end();
    };
    if (m.has_upsert_signal()) return of_snapshot(m.upsert_signal().source());
    if (m.has_upsert_edge()) return of_snapshot(m.upsert_edge().source());
    return false;
  }

  // Sends the pending message; false if the stream broke.
  bool Flush() {
    if (request_.records_size() == 0 && !first_message_) return true;
    sent_ += request_.records_size();
    const bool ok = sender_->Send(std::move(request_));
    first_message_ = false;
    request_ = v1::IngestRequest();
    request_bytes_ = 0;
    return ok;
  }

  void Progress(bool final) {
    if (!bar_ && !lines_) return;
    const absl::Time now = absl::Now();
    if (!final && now - last_progress_ <
                      (bar_ ? kBarInterval : options_.progress_interval)) {
      return;
    }
    if (!bar_ && !final && last_progress_ == absl::InfinitePast()) {
      // The first plain line waits one interval: short imports print none.
      last_progress_ = now;
      return;
    }
    last_progress_ = now;
    const int64_t done =
        done_bytes_ + (current_parser_ ? current_parser_->bytes_read() : 0);
    const std::string file =
        current_file_ >= 0 ? files_[current_file_].path : "";
    const std::string text =
        FormatProgress(bar_, done, total_bytes_,
                       sent_ + request_.records_size(), now - start_, file);
    if (bar_) {
      std::fprintf(options_.out, "\r%s\x1b[K%s", text.c_str(),
                   final ? "\n" : "");
    } else {
      std::fprintf(options_.out, "%s\n", text.c_str());
    }
    std::fflush(options_.out);
  }

  void Rejected(int file, int64_t line, int64_t record_index,
                absl::string_view field, absl::string_view reason,
                absl::string_view key) {
    if (rejections_file_ != nullptr) {
      std::string json = "{";
      if (file >= 0) {
        absl::StrAppend(&json, "\"file\":\"",
                        common::log::JsonEscape(files_[file].path),
                        "\",\"line\":", line, ",");
      }
      if (record_index >= 0) {
        absl::StrAppend(&json, "\"record_index\":", record_index, ",");
      }
      absl::StrAppend(&json, "\"field\":\"", common::log::JsonEscape(field),
                      "\",\"reason\":\"", common::log::JsonEscape(reason),
                      "\"");
      if (!key.empty()) {
        absl::StrAppend(&json, ",\"idempotency_key\":\"",
                        common::log::JsonEscape(key), "\"");
      }
      absl::StrAppend(&json, "}\n");
      std::fputs(json.c_str(), rejections_file_);
    }
    if (shown_rejections_.size() < kShownRejections) {
      shown_rejections_.push_back(absl::StrCat(
          Where(file, line, record_index), field.empty() ? "" : " ", field,
          field.empty() ? "" : ":", " ", reason));
    }
  }

  // The summary as "key: value" lines; `s` is null when the call failed.
  void PrintTableSummary(const v1::IngestSummary* s, int64_t rejected) {
    std::FILE* out = options_.out;
    std::fprintf(out, "files: %zu\n", files_.size());
    std::fprintf(out, "records: %s\n", Thousands(records_read_).c_str());
    std::fprintf(out, "sent: %s\n", Thousands(sent_).c_str());
    if (skipped_ > 0) {
      std::fprintf(out, "skipped: %s (--resume_from)\n",
                   Thousands(skipped_).c_str());
    }
    if (s != nullptr) {
      std::fprintf(out, "accepted: %s\n", Thousands(s->accepted()).c_str());
      std::fprintf(out, "duplicates: %s\n", Thousands(s->duplicates()).c_str());
    }
    std::fprintf(out, "rejected: %s (%s while parsing, %s by ingest)\n",
                 Thousands(rejected).c_str(),
                 Thousands(parse_rejected_).c_str(),
                 s != nullptr ? Thousands(s->rejected()).c_str() : "?");
    if (s != nullptr) {
      std::fprintf(out, "warnings: %d\n", s->warnings_size());
      if (!options_.snapshot_sources.empty()) {
        std::fprintf(out, "ended: %s\n", Thousands(s->ended()).c_str());
      }
      if (s->has_resolution()) PrintResolution(s->resolution());
      std::fprintf(out, "last_sequence: %lld\n",
                   static_cast<long long>(s->last_sequence()));
      if (options_.dry_run) std::fprintf(out, "dry_run: nothing written\n");
      const double seconds =
          std::max(absl::ToDoubleSeconds(absl::Now() - start_), 1e-3);
      std::fprintf(out, "elapsed: %.2fs (%s records/s)\n", seconds,
                   Thousands(static_cast<int64_t>(sent_ / seconds)).c_str());
    }
  }

  // What resolution made of the imported entities (ingest.proto's
  // ImportResolution), one count a line.
  void PrintResolution(const v1::ImportResolution& r) {
    std::FILE* out = options_.out;
    std::fprintf(out, "linked_automatically: %s\n",
                 Thousands(r.linked_automatically()).c_str());
    std::fprintf(out, "already_linked: %s\n",
                 Thousands(r.already_linked()).c_str());
    std::fprintf(out, "waiting_for_review: %s\n",
                 Thousands(r.waiting_for_review()).c_str());
    std::fprintf(out, "kept_refused: %s\n",
                 Thousands(r.kept_refused()).c_str());
    std::fprintf(out, "new_parties: %s\n", Thousands(r.new_parties()).c_str());
    std::fprintf(out, "not_resolved: %s%s%s%s\n",
                 Thousands(r.not_resolved()).c_str(),
                 r.not_resolved_reason().empty() ? "" : " (",
                 r.not_resolved_reason().c_str(),
                 r.not_resolved_reason().empty() ? "" : ")");
    std::fprintf(out, "links_written: %s\n",
                 Thousands(r.links_written()).c_str());
  }

  // The summary as one JSON object: this command's counts and, when the
  // call succeeded, ingest's summary under "summary" (ingest.proto's field
  // names, zeros included).
  void PrintJsonSummary(const v1::IngestSummary* s, int64_t rejected) {
    std::string json =
        absl::StrCat("{\"files\":", files_.size(),
                     ",\"records\":", records_read_, ",\"sent\":", sent_,
                     ",\"skipped\":", skipped_, ",\"rejected\":", rejected,
                     ",\"rejected_while_parsing\":", parse_rejected_,
                     ",\"dry_run\":", options_.dry_run ? "true" : "false");
    if (s != nullptr) {
      google::protobuf::util::JsonPrintOptions print;
      print.preserve_proto_field_names = true;
      print.always_print_primitive_fields = true;
      std::string summary;
      if (google::protobuf::util::MessageToJsonString(*s, &summary, print)
              .ok()) {
        absl::StrAppend(&json, ",\"summary\":", summary);
      }
      absl::StrAppend(
          &json, ",\"elapsed_seconds\":",
          absl::StrFormat("%.3f", absl::ToDoubleSeconds(absl::Now() - start_)));
    }
    absl::StrAppend(&json, "}\n");
    std::fputs(json.c_str(), options_.out);
  }

  std::string Where(int file, int64_t line, int64_t record_index) const {
    if (file >= 0) return absl::StrCat(files_[file].path, ":", line, ":");
    return absl::StrCat("record ", record_index, ":");
  }

  int Finish(bool ok) {
    ok = sender_->Close() && ok;
    if (ok) writer_->WritesDone();
    const grpc::Status status = writer_->Finish();
    Progress(true);
    const v1::IngestSummary& s = response_.summary();
    if (status.ok()) {
      for (const v1::Rejection& r : s.rejections()) {
        const int64_t index = r.record_index() + skipped_;
        const SourceMap::Location at = map_.Find(index);
        Rejected(at.file, at.line, index, r.field(), r.reason(),
                 r.idempotency_key());
      }
    }
    if (rejections_file_ != nullptr) std::fclose(rejections_file_);

    std::FILE* out = options_.out;
    const int64_t rejected = parse_rejected_ + (status.ok() ? s.rejected() : 0);
    result_.records_read = records_read_;
    result_.parse_rejected = parse_rejected_;
    result_.sent = sent_;
    result_.signals_and_edges = signals_and_edges_;
    if (status.ok()) {
      result_.summary = s;
    } else {
      result_.status =
          absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                       status.error_message());
    }
    if (!io_error_.empty()) result_.status = absl::DataLossError(io_error_);
    if (options_.json) {
      PrintJsonSummary(status.ok() ? &s : nullptr, rejected);
    } else {
      PrintTableSummary(status.ok() ? &s : nullptr, rejected);
    }
    std::fflush(out);

    for (const std::string& line : shown_rejections_) {
      std::fprintf(options_.err, "rejected: %s\n", line.c_str());
    }
    if (rejected > static_cast<int64_t>(shown_rejections_.size())) {
      std::fprintf(
          options_.err, "... and %s more rejections%s\n",
          Thousands(rejected - shown_rejections_.size()).c_str(),
          options_.rejections_path.empty()
              ? " (list them all with --rejections=FILE)"
              : absl::StrCat(" (all in ", options_.rejections_path, ")")
                    .c_str());
    }
    if (status.ok()) {
      int shown = 0;
      for (const v1::Warning& w : s.warnings()) {
        if (shown++ == kShownWarnings) {
          std::fprintf(options_.err, "... and %d more warnings\n",
                       s.warnings_size() - kShownWarnings);
          break;
        }
        const int64_t index = w.record_index() + skipped_;
        const SourceMap::Location at =
            w.record_index() >= 0 ? map_.Find(index) : SourceMap::Location{};
        std::fprintf(
            options_.err, "warning: %s%s%s %s\n",
            w.record_index() >= 0 ? Where(at.file, at.line, index).c_str() : "",
            w.field().empty() ? "" : " ",
            w.field().empty() ? "" : (w.field() + ":").c_str(),
            w.message().c_str());
      }
    }

    if (!io_error_.empty()) {
      std::fprintf(options_.err, "georiskctl import: %s\n", io_error_.c_str());
      return kExitFailed;
    }
    if (!status.ok()) {
      const bool down =
          status.error_code() == grpc::StatusCode::UNAVAILABLE ||
          status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
      std::fprintf(options_.err, "georiskctl import: %s at %s: %s\n",
                   down ? "ingest (or graphstore behind it) is unavailable"
                        : "the import failed",
                   options_.ingest_address.c_str(),
                   status.error_message().c_str());
      // Ingest says from which index of this stream to resend; without
      // that (the connection broke) nothing after the skipped records is
      // known to be handled.
      const int64_t resume = skipped_ + ResendIndex(status.error_message());
      std::fprintf(options_.err,
                   "georiskctl import: resume with --resume_from=%lld\n",
                   static_cast<long long>(resume));
      return down ? kExitUnavailable : kExitFailed;
    }
    return rejected > 0 ? kExitRejected : kExitOk;
  }

 public:
  ImportResult& result() { return result_; }

 private:
  const ImportOptions& options_;
  ImportResult result_;
  std::vector<InputFile> files_;
  int64_t total_bytes_ = 0;
  int64_t done_bytes_ = 0;
  bool bar_ = false;
  bool lines_ = false;
  absl::Time start_;
  absl::Time last_progress_ = absl::InfinitePast();
  int current_file_ = -1;
  formats::RecordParser* current_parser_ = nullptr;

  std::unique_ptr<v1::Ingest::Stub> stub_;
  grpc::ClientContext context_;
  v1::IngestResponse response_;
  std::unique_ptr<grpc::ClientWriter<v1::IngestRequest>> writer_;
  std::unique_ptr<Sender> sender_;
  v1::IngestRequest request_;
  int64_t request_bytes_ = 0;
  bool first_message_ = true;

  SourceMap map_;
  int64_t records_read_ = 0;
  int64_t parse_rejected_ = 0;
  int64_t sent_ = 0;
  // Signal and edge upserts among the records queued (InSnapshot()).
  int64_t signals_and_edges_ = 0;
  // Records not sent because of resume_from.
  int64_t skipped_ = 0;
  std::string io_error_;
  std::FILE* rejections_file_ = nullptr;
  std::vector<std::string> shown_rejections_;
};

}  // namespace

void SourceMap::Add(int file, int64_t line, int records) {
  if (records <= 0) return;
  if (!runs_.empty()) {
    Run& last = runs_.back();
    if (last.file == file && last.per_line == records &&
        last.first_line + last.lines == line) {
      ++last.lines;
      size_ += records;
      return;
    }
  }
  runs_.push_back({size_, line, 1, records, file});
  size_ += records;
}

SourceMap::Location SourceMap::Find(int64_t index) const {
  if (index < 0 || index >= size_) return {};
  auto it = std::upper_bound(
      runs_.begin(), runs_.end(), index,
      [](int64_t i, const Run& run) { return i < run.first_index; });
  const Run& run = *(it - 1);
  return {run.file, run.first_line + (index - run.first_index) / run.per_line};
}

std::string FormatProgress(bool bar, int64_t done_bytes, int64_t total_bytes,
                           int64_t records, absl::Duration elapsed,
                           absl::string_view file) {
  const double seconds = std::max(absl::ToDoubleSeconds(elapsed), 1e-3);
  const int64_t rate =
      static_cast<int64_t>(static_cast<double>(records) / seconds);
  const double fraction =
      total_bytes > 0
          ? std::min(1.0, static_cast<double>(done_bytes) / total_bytes)
          : 0.0;
  if (bar) {
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(fraction * kWidth);
    std::string meter(kWidth, ' ');
    for (int i = 0; i < filled; ++i) meter[i] = '=';
    if (filled < kWidth) meter[filled] = '>';
    return absl::StrFormat("[%s] %3d%%  %s records  %s records/s  %s", meter,
                           static_cast<int>(fraction * 100), Thousands(records),
                           Thousands(rate), file);
  }
  return absl::StrFormat("import: %d%% (%s of %s), %s records, %s records/s",
                         static_cast<int>(fraction * 100),
                         Megabytes(done_bytes), Megabytes(total_bytes),
                         Thousands(records), Thousands(rate));
}

int RunImport(const ImportOptions& options) {
  Importer importer(options);
  return importer.Run();
}

ImportResult RunImportWithResult(const ImportOptions& options) {
  Importer importer(options);
  const int code = importer.Run();
  ImportResult result = std::move(importer.result());
  result.exit_code = code;
  return result;
}

absl::StatusOr<ProgressMode> ParseProgressMode(absl::string_view text) {
  if (text == "auto") return ProgressMode::kAuto;
  if (text == "bar") return ProgressMode::kBar;
  if (text == "lines") return ProgressMode::kLines;
  if (text == "none") return ProgressMode::kNone;
  return absl::InvalidArgumentError(absl::StrCat(
      "--progress must be auto, bar, lines or none, got \"", text, "\""));
}

}  // namespace georisk::importer
