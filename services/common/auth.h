// File: services/common/auth.h
//
// Bearer-token authentication with roles, enforced in one place: a gRPC
// AuthMetadataProcessor that every georisk server installs when it is given
// a token file. It runs before any handler, so a call it refuses writes
// nothing.
//
// Roles (least privilege, not a hierarchy):
//   reader  Scorer, Alerts, server reflection, one GraphStore method,
//           LookupByIdentifier, and Resolution's reads (MatchEntities,
//           ListReviewQueue, ListLinks): scores, explanations, scenarios,
//           alerts, finding an entity by its LEI or list number, candidates
//           and links.
//   writer  Ingest, Resolution (its reads and ReviewLink) and server
//           reflection: loading data, reviewing links.
//   admin   everything, including GraphStore (services use admin tokens to
//           talk to graphstore).
// grpc.health.v1.Health stays open so that probes need no credentials.
//
// Token file: one token per line, "<token> <role> [<name>]"; '#' starts a
// comment; tokens are at least 16 characters of [A-Za-z0-9._~+/=-].
//
//   absl::StatusOr<TokenStore> tokens =
//   TokenStore::Load("/etc/georisk/tokens");
//   credentials->SetAuthMetadataProcessor(
//       std::make_shared<TokenAuthProcessor>(std::move(*tokens)));
//
// Errors a caller sees: UNAUTHENTICATED (no or unknown bearer token),
// PERMISSION_DENIED (the token's role may not call the method).
#ifndef GEORISK_SERVICES_COMMON_AUTH_H_
#define GEORISK_SERVICES_COMMON_AUTH_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/security/auth_metadata_processor.h"

namespace georisk::common {

enum class Role { kReader, kWriter, kAdmin };

// "reader", "writer", "admin".
absl::string_view RoleName(Role role);

// Whether `role` may call the method at `path` ("/georisk.v1.Scorer/GetScore").
bool RoleAllows(Role role, absl::string_view path);
// Whether `path` needs no credentials (health checks).
bool IsOpenMethod(absl::string_view path);

class TokenStore {
 public:
  struct Entry {
    std::string token;
    Role role;
    std::string name;  // Who holds it, for logs; defaults to the role.
  };

  // Parses a token file's text. Errors are INVALID_ARGUMENT naming the line:
  // "line 3: unknown role \"root\"".
  static absl::StatusOr<TokenStore> Parse(absl::string_view text);
  // Reads and parses a file. NOT_FOUND if it cannot be read.
  static absl::StatusOr<TokenStore> Load(const std::string& path);

  // The entry for `token`, compared in constant time per entry; nullptr if
  // none.
  const Entry* Find(absl::string_view token) const;
  size_t size() const { return entries_.size(); }

 private:
  std::vector<Entry> entries_;
};

// The processor. Thread-safe (read-only after construction).
class TokenAuthProcessor final : public grpc::AuthMetadataProcessor {
 public:
  explicit TokenAuthProcessor(TokenStore tokens) : tokens_(std::move(tokens)) {}

  bool IsBlocking() const override { return false; }
  grpc::Status Process(const InputMetadata& auth_metadata,
                       grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

 private:
  const TokenStore tokens_;
};

// Reads a PEM file (certificate, key or CA bundle). INVALID_ARGUMENT naming
// the path when it cannot be read or holds no PEM block.
absl::StatusOr<std::string> ReadPemFile(const std::string& path);

// Reads a client's token file: the first non-empty, non-comment line's first
// field. NOT_FOUND / INVALID_ARGUMENT name the path.
absl::StatusOr<std::string> ReadClientToken(const std::string& path);

}  // namespace georisk::common

#endif  // GEORISK_SERVICES_COMMON_AUTH_H_
