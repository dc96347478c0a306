// TLS, mutual TLS and bearer tokens on a real graphstore process, with
// certificates made by openssl in the test: wrong or missing credentials get
// UNAVAILABLE (no TLS handshake), UNAUTHENTICATED or PERMISSION_DENIED, and
// no write happens; health stays open; the right credentials work.
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "domain/testing/builders.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "services/common/channel.h"
#include "tests/testing/process.h"

namespace georisk {
namespace {

using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::Upsert;
using ::georisk::testing::MakeTempDir;
using ::georisk::testing::ProcessOptions;
using ::georisk::testing::Runfile;
using ::georisk::testing::ServiceProcess;

constexpr char kAdmin[] = "admin-token-5f1e2d3c4b5a6978";
constexpr char kReader[] = "reader-token-0a1b2c3d4e5f6071";

void Run(const std::string& command) {
  int rc = std::system((command + " >/dev/null 2>&1").c_str());
  ASSERT_EQ(rc, 0) << command;
}

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// A CA, a server certificate for 127.0.0.1 and a client certificate, and a
// second, untrusted CA with its own client certificate.
void MakeCertificates(const std::string& d) {
  Write(d + "/san.cnf",
        "[req]\ndistinguished_name=dn\n[dn]\n[ext]\n"
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  for (const std::string ca : {"ca", "rogue"}) {
    Run(absl::StrCat(
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "
        "/CN=",
        ca, " -keyout ", d, "/", ca, ".key -out ", d, "/", ca, ".crt"));
  }
  auto issue = [&](const std::string& name, const std::string& ca,
                   const std::string& ext) {
    Run(absl::StrCat("openssl req -newkey rsa:2048 -nodes -subj /CN=", name,
                     " -keyout ", d, "/", name, ".key -out ", d, "/", name,
                     ".csr"));
    Run(absl::StrCat("openssl x509 -req -days 2 -in ", d, "/", name,
                     ".csr -CA ", d, "/", ca, ".crt -CAkey ", d, "/", ca,
                     ".key -CAcreateserial -out ", d, "/", name, ".crt", ext));
  };
  issue("server", "ca",
        absl::StrCat(" -extfile ", d, "/san.cnf -extensions ext"));
  issue("client", "ca", "");
  issue("intruder", "rogue", "");
}

class TlsAuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(MakeTempDir("tls"));
    MakeCertificates(*dir_);
    Write(*dir_ + "/tokens", absl::StrCat("# roles\n", kAdmin, " admin ops\n",
                                          kReader, " reader dashboard\n"));
    Write(*dir_ + "/admin.token", absl::StrCat(kAdmin, "\n"));
    Write(*dir_ + "/reader.token", absl::StrCat(kReader, "\n"));
    Write(*dir_ + "/wrong.token", "not-a-known-token-123456\n");
  }
  static void TearDownTestSuite() { delete dir_; }

  // graphstore with TLS, mutual TLS and tokens.
  void StartSecure() {
    const std::string& d = *dir_;
    auto p = ServiceProcess::Start(
        {Runfile("services/graphstore/graphstore"),
         {"--data_dir=" + MakeTempDir("gs"), "--tls_cert=" + d + "/server.crt",
          "--tls_key=" + d + "/server.key", "--tls_client_ca=" + d + "/ca.crt",
          "--token_file=" + d + "/tokens"},
         MakeTempDir("gslog")});
    ASSERT_TRUE(p.ok()) << p.status();
    server_ = std::move(*p);
  }

  common::ChannelOptions Trusted(const std::string& token) {
    common::ChannelOptions o;
    o.target = server_->address();
    o.tls_ca_file = *dir_ + "/ca.crt";
    o.tls_client_cert_file = *dir_ + "/client.crt";
    o.tls_client_key_file = *dir_ + "/client.key";
    if (!token.empty()) o.token_file = *dir_ + "/" + token + ".token";
    return o;
  }

  grpc::Status Apply(const common::ChannelOptions& o, const std::string& slug) {
    auto channel = common::MakeChannel(o);
    EXPECT_TRUE(channel.ok()) << channel.status();
    auto stub = v1::GraphStore::NewStub(*channel);
    v1::ApplyRequest request;
    *request.add_mutations() = Upsert(Company("company/" + slug));
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::ApplyResponse response;
    return stub->Apply(&context, request, &response);
  }

  grpc::Status Health(const common::ChannelOptions& o) {
    auto stub = grpc::health::v1::Health::NewStub(*common::MakeChannel(o));
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    grpc::health::v1::HealthCheckResponse response;
    return stub->Check(&context, grpc::health::v1::HealthCheckRequest(),
                       &response);
  }

  int64_t LastSequence() {
    auto stub = v1::GraphStore::NewStub(*common::MakeChannel(Trusted("admin")));
    grpc::ClientContext context;
    v1::GetStatsResponse stats;
    grpc::Status s = stub->GetStats(&context, v1::GetStatsRequest(), &stats);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return stats.last_sequence();
  }

  static std::string* dir_;
  std::unique_ptr<ServiceProcess> server_;
};

std::string* TlsAuthTest::dir_ = nullptr;

TEST_F(TlsAuthTest, CredentialMatrix) {
  StartSecure();
  // The right certificate and an admin token write.
  ASSERT_TRUE(Apply(Trusted("admin"), "first").ok());
  ASSERT_EQ(LastSequence(), 1);

  struct Case {
    std::string name;
    common::ChannelOptions options;
    grpc::StatusCode expect;
  };
  common::ChannelOptions plaintext;
  plaintext.target = server_->address();
  common::ChannelOptions no_client_cert = Trusted("admin");
  no_client_cert.tls_client_cert_file.clear();
  no_client_cert.tls_client_key_file.clear();
  common::ChannelOptions rogue_cert = Trusted("admin");
  rogue_cert.tls_client_cert_file = *dir_ + "/intruder.crt";
  rogue_cert.tls_client_key_file = *dir_ + "/intruder.key";
  common::ChannelOptions wrong_ca = Trusted("admin");
  wrong_ca.tls_ca_file = *dir_ + "/rogue.crt";
  const std::vector<Case> cases = {
      {"plaintext", plaintext, grpc::StatusCode::UNAVAILABLE},
      {"no client certificate", no_client_cert, grpc::StatusCode::UNAVAILABLE},
      {"client certificate from another CA", rogue_cert,
       grpc::StatusCode::UNAVAILABLE},
      {"server not trusted", wrong_ca, grpc::StatusCode::UNAVAILABLE},
      {"no token", Trusted(""), grpc::StatusCode::UNAUTHENTICATED},
      {"unknown token", Trusted("wrong"), grpc::StatusCode::UNAUTHENTICATED},
      {"reader token", Trusted("reader"), grpc::StatusCode::PERMISSION_DENIED},
  };
  for (const Case& c : cases) {
    grpc::Status s = Apply(c.options, "denied");
    EXPECT_EQ(s.error_code(), c.expect) << c.name << ": " << s.error_message();
  }
  // Nothing of the refused calls was written.
  EXPECT_EQ(LastSequence(), 1);

  // Health is open to any TLS client with a valid certificate, token or not.
  EXPECT_TRUE(Health(Trusted("")).ok());
  EXPECT_TRUE(Health(Trusted("reader")).ok());
  EXPECT_EQ(*server_->Stop(SIGTERM, absl::Seconds(20)), 0);
}

TEST_F(TlsAuthTest, TokensOnLoopbackWithoutTls) {
  auto p = ServiceProcess::Start(
      {Runfile("services/graphstore/graphstore"),
       {"--data_dir=" + MakeTempDir("gs"), "--token_file=" + *dir_ + "/tokens"},
       MakeTempDir("gslog")});
  ASSERT_TRUE(p.ok()) << p.status();
  server_ = std::move(*p);
  common::ChannelOptions admin;
  admin.target = server_->address();
  admin.token_file = *dir_ + "/admin.token";
  EXPECT_TRUE(Apply(admin, "a").ok());
  common::ChannelOptions reader = admin;
  reader.token_file = *dir_ + "/reader.token";
  EXPECT_EQ(Apply(reader, "b").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  common::ChannelOptions anonymous;
  anonymous.target = server_->address();
  EXPECT_EQ(Apply(anonymous, "c").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(Health(anonymous).ok());  // Probes need no token.
}

TEST_F(TlsAuthTest, TokensBeyondLoopbackNeedTls) {
  ProcessOptions options{
      Runfile("services/graphstore/graphstore"),
      {"--listen=0.0.0.0:0", "--metrics_listen=none",
       "--data_dir=" + MakeTempDir("gs"), "--token_file=" + *dir_ + "/tokens"},
      MakeTempDir("gslog")};
  options.add_port_flags = false;
  auto p = ServiceProcess::Start(options);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*(*p)->Wait(absl::Seconds(20)), 2);
  EXPECT_NE((*p)->Log().find("--token_file: bearer tokens need TLS"),
            std::string::npos)
      << (*p)->Log();
}

}  // namespace
}  // namespace georisk
