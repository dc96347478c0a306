// File: services/georiskctl/loopback_server.h
//
// StartLoopbackServer: the fake services a georiskctl command test talks to,
// served by one gRPC server on 127.0.0.1, port 0 (the kernel picks a free
// one), without TLS; RequestLog: what a fake received, for the test to check.
// Test-only.
//
//   std::string address;
//   server_ = StartLoopbackServer({&scorer_, &alerts_}, &address);
//   ASSERT_NE(server_, nullptr);
//   options_.client.scorer = address;
//   ... server_->Shutdown(); server_->Wait();   // in TearDown
//
//   class FakeScorer final : public v1::Scorer::Service {
//    public:
//     grpc::Status ListTopRisks(..., const Request* request, ...) override {
//       top_requests_.Add(*request);
//       ...
//     }
//     std::vector<v1::ListTopRisksRequest> top_requests() const {
//       return top_requests_.all();
//     }
//    private:
//     RequestLog<v1::ListTopRisksRequest> top_requests_;
//   };
//   EXPECT_EQ(scorer_.top_requests()[0].page_size(), 15);
//
// Thread safety: StartLoopbackServer is a free function; the services must
// outlive the server. A RequestLog may be added to from gRPC's threads while
// the test reads it.
#ifndef GEORISK_SERVICES_GEORISKCTL_LOOPBACK_SERVER_H_
#define GEORISK_SERVICES_GEORISKCTL_LOOPBACK_SERVER_H_

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"

namespace georisk::cli {

// Starts `services` and sets `*address` to "127.0.0.1:PORT". Null when the
// server could not start.
inline std::unique_ptr<grpc::Server> StartLoopbackServer(
    std::initializer_list<grpc::Service*> services, std::string* address) {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  for (grpc::Service* service : services) builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  *address = absl::StrCat("127.0.0.1:", port);
  return server;
}

// The requests a fake service received, in the order they came.
template <typename Request>
class RequestLog {
 public:
  void Add(const Request& request) {
    absl::MutexLock lock(&mu_);
    requests_.push_back(request);
  }
  // A copy of every request so far.
  std::vector<Request> all() const {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<Request> requests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace georisk::cli

#endif  // GEORISK_SERVICES_GEORISKCTL_LOOPBACK_SERVER_H_
