#include "tests/testing/service_stack.h"

#include <signal.h>

#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/grpc_probe.h"

namespace georisk {
namespace testing {
namespace {

// Starts `options` and waits until the process serves.
absl::StatusOr<std::unique_ptr<ServiceProcess>> StartServing(
    ProcessOptions options, absl::Duration serving_timeout) {
  const std::string binary = options.binary;
  absl::StatusOr<std::unique_ptr<ServiceProcess>> process =
      ServiceProcess::Start(std::move(options));
  if (!process.ok()) return process.status();
  const absl::Status serving =
      common::WaitForServing((*process)->address(), "", serving_timeout);
  if (!serving.ok()) {
    return absl::Status(
        serving.code(),
        absl::StrCat(binary, ": ", serving.message(), "\n", (*process)->Log()));
  }
  return process;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServiceStack>> ServiceStack::Start(
    StackOptions options) {
  std::unique_ptr<ServiceStack> stack(new ServiceStack(std::move(options)));
  const StackOptions& o = stack->options_;
  absl::StatusOr<std::unique_ptr<ServiceProcess>> gs = stack->StartGraphstore();
  if (!gs.ok()) return gs.status();
  stack->graphstore_ = std::move(*gs);
  absl::StatusOr<std::unique_ptr<ServiceProcess>> in = stack->StartIngest();
  if (!in.ok()) return in.status();
  stack->ingest_ = std::move(*in);
  if (o.scorer) {
    absl::Status scorer = stack->StartScorer();
    if (!scorer.ok()) return scorer;
  }
  return stack;
}

absl::Status ServiceStack::StartScorer() {
  if (scorer_ != nullptr && scorer_->running()) {
    return absl::FailedPreconditionError("the scorer is still running");
  }
  std::vector<std::string> args = {
      absl::StrCat("--graphstore=", graphstore_->address()),
      absl::StrCat("--data_dir=", options_.dir, "/scorer")};
  args.insert(args.end(), options_.scorer_args.begin(),
              options_.scorer_args.end());
  absl::StatusOr<std::unique_ptr<ServiceProcess>> sc = StartServing(
      {Runfile("services/scorer/scorer"), std::move(args), options_.dir},
      options_.serving_timeout);
  if (!sc.ok()) return sc.status();
  scorer_ = std::move(*sc);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ServiceProcess>>
ServiceStack::StartGraphstore() {
  return StartServing(
      {Runfile("services/graphstore/graphstore"),
       {absl::StrCat("--data_dir=", options_.dir, "/graphstore"),
        "--sync=false"},
       options_.dir},
      options_.serving_timeout);
}

absl::StatusOr<std::unique_ptr<ServiceProcess>> ServiceStack::StartIngest() {
  std::vector<std::string> args = {
      absl::StrCat("--graphstore=", graphstore_->address()),
      absl::StrCat("--batch_size=", options_.ingest_batch_size)};
  args.insert(args.end(), options_.ingest_args.begin(),
              options_.ingest_args.end());
  return StartServing(
      {Runfile("services/ingest/ingest"), std::move(args), options_.dir},
      options_.serving_timeout);
}

absl::Status ServiceStack::Restart(
    const char* name, int sig, std::unique_ptr<ServiceProcess>* process,
    const std::function<absl::StatusOr<std::unique_ptr<ServiceProcess>>()>&
        start) {
  absl::StatusOr<int> code = (*process)->Stop(sig, options_.stop_timeout);
  if (!code.ok()) return code.status();
  if (sig == SIGTERM && *code != 0) {
    return absl::InternalError(
        absl::StrCat(name, " exited ", *code, "\n", (*process)->Log()));
  }
  absl::StatusOr<std::unique_ptr<ServiceProcess>> started = start();
  if (!started.ok()) return started.status();
  *process = std::move(*started);
  return absl::OkStatus();
}

absl::Status ServiceStack::RestartIngest(int sig) {
  return Restart("ingest", sig, &ingest_, [this] { return StartIngest(); });
}

absl::Status ServiceStack::RestartGraphstore() {
  return Restart("graphstore", SIGTERM, &graphstore_,
                 [this] { return StartGraphstore(); });
}

absl::Status ServiceStack::Stop() {
  absl::Status first;
  for (ServiceProcess* p : {scorer_.get(), ingest_.get(), graphstore_.get()}) {
    if (p == nullptr || !p->running()) continue;
    absl::StatusOr<int> code = p->Stop(SIGTERM, options_.stop_timeout);
    if (!first.ok()) continue;
    if (!code.ok()) {
      first =
          absl::Status(code.status().code(),
                       absl::StrCat(code.status().message(), "\n", p->Log()));
    } else if (*code != 0) {
      first =
          absl::InternalError(absl::StrCat("exited ", *code, "\n", p->Log()));
    }
  }
  return first;
}

}  // namespace testing
}  // namespace georisk
