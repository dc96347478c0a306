#include "services/common/auth.h"

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace georisk::common {
namespace {

constexpr size_t kMinTokenLength = 16;

bool ValidTokenChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '~' ||
         c == '+' || c == '/' || c == '=' || c == '-';
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

std::optional<Role> ParseRole(absl::string_view s) {
  if (s == "reader") return Role::kReader;
  if (s == "writer") return Role::kWriter;
  if (s == "admin") return Role::kAdmin;
  return std::nullopt;
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kReader:
      return "reader";
    case Role::kWriter:
      return "writer";
    case Role::kAdmin:
      return "admin";
  }
  return "unknown";
}

bool IsOpenMethod(absl::string_view path) {
  return absl::StartsWith(path, "/grpc.health.v1.Health/");
}

bool RoleAllows(Role role, absl::string_view path) {
  if (IsOpenMethod(path) || role == Role::kAdmin) return true;
  const bool reflection =
      absl::StartsWith(path, "/grpc.reflection.v1alpha.ServerReflection/");
  // Resolution's reads; ReviewLink writes a judgement (a writer's).
  const bool resolution_read =
      path == "/georisk.v1.Resolution/MatchEntities" ||
      path == "/georisk.v1.Resolution/ListReviewQueue" ||
      path == "/georisk.v1.Resolution/ListLinks";
  switch (role) {
    case Role::kReader:
      return reflection || absl::StartsWith(path, "/georisk.v1.Scorer/") ||
             absl::StartsWith(path, "/georisk.v1.Alerts/") ||
             path == "/georisk.v1.GraphStore/LookupByIdentifier" ||
             resolution_read;
    case Role::kWriter:
      // A reviewer reads the queue it reviews.
      return reflection || absl::StartsWith(path, "/georisk.v1.Ingest/") ||
             resolution_read || path == "/georisk.v1.Resolution/ReviewLink";
    case Role::kAdmin:
      return true;
  }
  return false;
}

absl::StatusOr<TokenStore> TokenStore::Parse(absl::string_view text) {
  TokenStore store;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    size_t hash = line.find('#');
    if (hash != absl::string_view::npos) line = line.substr(0, hash);
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (fields.empty()) continue;
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_number, ": ", why));
    };
    if (fields.size() < 2 || fields.size() > 3) {
      return bad("expected \"<token> <role> [<name>]\"");
    }
    if (fields[0].size() < kMinTokenLength) {
      return bad(
          absl::StrCat("token shorter than ", kMinTokenLength, " characters"));
    }
    for (char c : fields[0]) {
      if (!ValidTokenChar(c))
        return bad(
            "token has a character outside "
            "[A-Za-z0-9._~+/=-]");
    }
    std::optional<Role> role = ParseRole(fields[1]);
    if (!role) return bad(absl::StrCat("unknown role \"", fields[1], "\""));
    for (const Entry& e : store.entries_) {
      if (e.token == fields[0]) return bad("duplicate token");
    }
    store.entries_.push_back(
        {std::string(fields[0]), *role,
         std::string(fields.size() == 3 ? fields[2] : RoleName(*role))});
  }
  if (store.entries_.empty()) {
    return absl::InvalidArgumentError("no tokens");
  }
  return store;
}

absl::StatusOr<TokenStore> TokenStore::Load(const std::string& path) {
  absl::StatusOr<std::string> text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<TokenStore> store = Parse(*text);
  if (!store.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", store.status().message()));
  }
  return store;
}

const TokenStore::Entry* TokenStore::Find(absl::string_view token) const {
  const Entry* found = nullptr;
  for (const Entry& e : entries_) {  // No early exit: timing says nothing.
    if (ConstantTimeEquals(e.token, token)) found = &e;
  }
  return found;
}

grpc::Status TokenAuthProcessor::Process(const InputMetadata& auth_metadata,
                                         grpc::AuthContext* context,
                                         OutputMetadata* consumed_auth_metadata,
                                         OutputMetadata* response_metadata) {
  auto path_it = auth_metadata.find(":path");
  absl::string_view path =
      path_it == auth_metadata.end()
          ? absl::string_view()
          : absl::string_view(path_it->second.data(), path_it->second.size());
  if (IsOpenMethod(path)) return grpc::Status::OK;
  auto auth_it = auth_metadata.find("authorization");
  if (auth_it == auth_metadata.end()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "missing credentials: send \"authorization: Bearer "
                        "<token>\"");
  }
  absl::string_view value(auth_it->second.data(), auth_it->second.size());
  if (!absl::ConsumePrefix(&value, "Bearer ")) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "authorization must be \"Bearer <token>\"");
  }
  const TokenStore::Entry* entry = tokens_.Find(value);
  if (entry == nullptr) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "unknown token");
  }
  if (!RoleAllows(entry->role, path)) {
    return grpc::Status(
        grpc::StatusCode::PERMISSION_DENIED,
        absl::StrCat("role ", RoleName(entry->role), " may not call ", path));
  }
  context->AddProperty("georisk_principal", entry->name);
  context->AddProperty("georisk_role", std::string(RoleName(entry->role)));
  // The token goes no further than this check.
  consumed_auth_metadata->insert(std::make_pair(
      std::string(auth_it->first.data(), auth_it->first.size()),
      std::string(auth_it->second.data(), auth_it->second.size())));
  return grpc::Status::OK;
}

absl::StatusOr<std::string> ReadPemFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  if (!in || !(ss << in.rdbuf())) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read"));
  }
  std::string pem = ss.str();
  if (pem.find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a PEM file"));
  }
  return pem;
}

absl::StatusOr<std::string> ReadClientToken(const std::string& path) {
  absl::StatusOr<std::string> text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    size_t hash = line.find('#');
    if (hash != absl::string_view::npos) line = line.substr(0, hash);
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (!fields.empty()) return std::string(fields[0]);
  }
  return absl::InvalidArgumentError(absl::StrCat(path, ": no token"));
}

}  // namespace georisk::common
