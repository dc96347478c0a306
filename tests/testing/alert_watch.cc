#include "tests/testing/alert_watch.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace georisk::testing {

std::string AlertKey(const v1::Alert& a) {
  std::string key = absl::StrCat(a.sequence(), " ", a.feed_position(), " ",
                                 a.graph_sequence(), " ", a.alert_id(), " ",
                                 v1::Alert::State_Name(a.state()), " ",
                                 a.score_before(), " -> ", a.score_after());
  for (const v1::GraphPosition& p : a.feed_positions()) {
    absl::StrAppend(&key, " ", p.shard(), "@", p.sequence());
  }
  return key;
}

std::unique_ptr<v1::Alerts::Stub> AlertsOf(const ServiceProcess& p) {
  return v1::Alerts::NewStub(
      grpc::CreateChannel(p.address(), grpc::InsecureChannelCredentials()));
}

grpc::Status WatchAlertsInto(v1::Alerts::Stub* alerts, int64_t from, size_t n,
                             absl::Duration timeout, absl::Mutex* mu,
                             std::vector<v1::Alert>* out) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  v1::WatchAlertsRequest request;
  request.set_from_sequence(from);
  auto reader = alerts->WatchAlerts(&context, request);
  v1::WatchAlertsResponse response;
  bool done = false;
  while (!done && reader->Read(&response)) {
    absl::MutexLock lock(mu);
    for (const v1::Alert& a : response.alerts()) out->push_back(a);
    done = out->size() >= n;
  }
  if (done) context.TryCancel();
  return reader->Finish();
}

}  // namespace georisk::testing
