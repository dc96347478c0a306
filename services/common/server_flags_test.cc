#include "services/common/server_flags.h"

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "gtest/gtest.h"

namespace georisk::common {
namespace {

const ServiceDefaults kDefaults{"graphstore", 50051, 9464};

class ServerFlagsTest : public ::testing::Test {
 private:
  absl::FlagSaver saver_;  // Restores every flag after each test.
};

TEST_F(ServerFlagsTest, DefaultsComeFromTheService) {
  absl::StatusOr<ServerOptions> o = ServerOptionsFromFlags(kDefaults);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->service_name, "graphstore");
  EXPECT_EQ(o->listen_address, "127.0.0.1:50051");
  EXPECT_EQ(o->metrics_address, "127.0.0.1:9464");
  EXPECT_EQ(o->port_file, "");
  EXPECT_EQ(o->shutdown_grace, absl::Seconds(10));
  EXPECT_EQ(o->drain_delay, absl::ZeroDuration());
  EXPECT_EQ(o->max_receive_message_bytes, 64 << 20);
}

TEST_F(ServerFlagsTest, FlagsOverrideDefaults) {
  absl::SetFlag(&FLAGS_listen, "0.0.0.0:0");
  absl::SetFlag(&FLAGS_metrics_listen, "[::1]:9999");
  absl::SetFlag(&FLAGS_port_file, "/tmp/ports");
  absl::SetFlag(&FLAGS_shutdown_grace, absl::Seconds(3));
  absl::SetFlag(&FLAGS_drain_delay, absl::Milliseconds(250));
  absl::SetFlag(&FLAGS_max_receive_message_bytes, 1024);
  absl::StatusOr<ServerOptions> o = ServerOptionsFromFlags(kDefaults);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->listen_address, "0.0.0.0:0");
  EXPECT_EQ(o->metrics_address, "[::1]:9999");
  EXPECT_EQ(o->port_file, "/tmp/ports");
  EXPECT_EQ(o->shutdown_grace, absl::Seconds(3));
  EXPECT_EQ(o->drain_delay, absl::Milliseconds(250));
  EXPECT_EQ(o->max_receive_message_bytes, 1024);
}

TEST_F(ServerFlagsTest, MetricsCanBeDisabled) {
  absl::SetFlag(&FLAGS_metrics_listen, "none");
  absl::StatusOr<ServerOptions> o = ServerOptionsFromFlags(kDefaults);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->metrics_address, "");
}

TEST_F(ServerFlagsTest, BadValuesNameTheFlag) {
  struct Case {
    std::function<void()> set;
    std::string message_prefix;
  };
  const std::vector<Case> cases = {
      {[] { absl::SetFlag(&FLAGS_listen, "localhost"); }, "--listen: "},
      {[] { absl::SetFlag(&FLAGS_listen, "127.0.0.1:70000"); }, "--listen: "},
      {[] { absl::SetFlag(&FLAGS_metrics_listen, "1.2.3.4:x"); },
       "--metrics_listen: "},
      {[] { absl::SetFlag(&FLAGS_shutdown_grace, absl::Seconds(-1)); },
       "--shutdown_grace: "},
      {[] { absl::SetFlag(&FLAGS_drain_delay, absl::Seconds(-1)); },
       "--drain_delay: "},
      {[] { absl::SetFlag(&FLAGS_max_receive_message_bytes, 0); },
       "--max_receive_message_bytes: "},
      {[] { absl::SetFlag(&FLAGS_log_level, "loud"); }, "--log_level: "},
      {[] {
         absl::SetFlag(&FLAGS_listen, "0.0.0.0:0");
         absl::SetFlag(&FLAGS_token_file, "/tokens");
       },
       "--token_file: bearer tokens need TLS"},
      {[] { absl::SetFlag(&FLAGS_tls_cert, "/cert.pem"); },
       "--tls_cert, --tls_key: give both or neither"},
      {[] {
         absl::SetFlag(&FLAGS_tls_cert, "/c");
         absl::SetFlag(&FLAGS_tls_key, "/k");
         absl::SetFlag(&FLAGS_keepalive_timeout, absl::ZeroDuration());
       },
       "--keepalive_time, --keepalive_timeout, min_client_ping_interval"},
  };
  for (const Case& c : cases) {
    absl::FlagSaver saver;
    c.set();
    absl::StatusOr<ServerOptions> o = ServerOptionsFromFlags(kDefaults);
    ASSERT_FALSE(o.ok()) << c.message_prefix;
    EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(o.status().message().substr(0, c.message_prefix.size()),
              c.message_prefix)
        << o.status();
  }
}

TEST(ParseHostPortTest, AcceptsTheUsualShapes) {
  auto a = ParseHostPort("127.0.0.1:50051");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 50051);
  auto b = ParseHostPort("[::1]:0");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 0);
  auto c = ParseHostPort(":8080");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "0.0.0.0");
  EXPECT_EQ(c->port, 8080);
}

TEST(ParseHostPortTest, RejectsMalformedAddresses) {
  for (const char* bad : {"", "host", "host:", "host:-1", "host:65536",
                          "::1:80", "[::1]80", "[::1", "h:12345678", "h:1x"}) {
    EXPECT_EQ(ParseHostPort(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

}  // namespace
}  // namespace georisk::common
