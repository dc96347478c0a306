// File: services/georiskctl/loopback_server.h
//
// StartLoopbackServer: the fake services a georiskctl command test talks to,
// served by one gRPC server on 127.0.0.1, port 0 (the kernel picks a free
// one), without TLS. Test-only.
//
//   std::string address;
//   server_ = StartLoopbackServer({&scorer_, &alerts_}, &address);
//   ASSERT_NE(server_, nullptr);
//   options_.client.scorer = address;
//   ... server_->Shutdown(); server_->Wait();   // in TearDown
//
// Thread safety: a free function; the services must outlive the server.
#ifndef GEORISK_SERVICES_GEORISKCTL_LOOPBACK_SERVER_H_
#define GEORISK_SERVICES_GEORISKCTL_LOOPBACK_SERVER_H_

#include <initializer_list>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
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

}  // namespace georisk::cli

#endif  // GEORISK_SERVICES_GEORISKCTL_LOOPBACK_SERVER_H_
