// File: base/testing/free_port.h
//
// PickFreePort() names a loopback TCP port that was free a moment ago, for
// the rare peer (a third-party server) that cannot report the port it bound
// itself, and for tests that need an address nobody listens on. Test-only.
// Prefer port 0 and asking the server which port it bound: a port picked here
// can be taken by another process before it is used.
//
// Example:
//
//   const int port = base::testing::PickFreePort();
//   ASSERT_NE(port, 0);
//   options.ingest_address = absl::StrCat("127.0.0.1:", port);
//
// Thread safety: may be called from any thread.
#ifndef GEORISK_BASE_TESTING_FREE_PORT_H_
#define GEORISK_BASE_TESTING_FREE_PORT_H_

namespace georisk::base::testing {

// Binds a TCP socket to 127.0.0.1 port 0, reads the port the kernel chose and
// closes the socket. Returns 0 if no socket could be bound.
int PickFreePort();

}  // namespace georisk::base::testing

#endif  // GEORISK_BASE_TESTING_FREE_PORT_H_
