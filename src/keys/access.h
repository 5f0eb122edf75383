// Who may do what in the key vault (docs/keyvault.md "Access control").
//
// Identities: "admin" (tlaunchd's admin token: every operation), "token:NAME"
// (an API token an admin issued), "cert:sha256:HEX" (a TLS client certificate
// that chained to the configured client CA, by SHA-256 of its DER), and
// "vm:VMID" (a VM presenting an attestation token tlaunchd issued, by its
// x-ms-azurevm-vmid). An access policy grants operations to an identity on
// the whole vault (scope "*") or on one key (scope = the key name). Nothing
// is allowed without a policy (fail closed).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/hex.h"
#include "common/result.h"

namespace tl::keys {

// Key Vault's key permission names (plus "audit" to read the audit log).
enum class Operation { get, list, create, import, update, del, recover, purge, rotate, release, audit };
std::string_view operation_name(Operation op);  // "get", …, "delete", …
std::optional<Operation> operation_from_name(std::string_view name);  // also accepts "delete"
inline constexpr Operation kAllOperations[] = {Operation::get,    Operation::list,    Operation::create,
                                               Operation::import, Operation::update,  Operation::del,
                                               Operation::recover, Operation::purge,  Operation::rotate,
                                               Operation::release, Operation::audit};

// "admin", "token:NAME", "cert:sha256:<64 hex>", "vm:VMID": checks the form
// (reason identity-invalid).
Status check_identity(std::string_view identity);

struct AccessPolicy {
  std::string identity;
  std::string scope;  // "*" or a key name
  std::vector<Operation> operations;  // sorted, unique
  int64_t created_at = 0;
};

struct ApiTokenInfo {
  std::string name;
  int64_t created_at = 0;
  std::optional<int64_t> expires_at;
};

struct IssuedToken {
  ApiTokenInfo info;
  std::string token;  // shown once: "tlk_" + 43 base64url chars (256 random bits)
};

// Thread-safe; answers from an in-memory copy of the tables, reloaded after
// every change made through this object (other processes' changes are seen
// within kReloadSeconds).
class AccessControl {
 public:
  static constexpr int64_t kReloadSeconds = 5;
  // `reload`: how often changes made by other processes are picked up (tests
  // shorten it; changes through this object are seen at once).
  static Result<std::unique_ptr<AccessControl>> open(
      const std::filesystem::path& db, std::chrono::milliseconds reload = std::chrono::seconds(kReloadSeconds));

  // API tokens (role "user" in api_tokens). Names: 1-64 of [A-Za-z0-9._-].
  Result<IssuedToken> issue_token(const std::string& name, std::optional<int64_t> expires_at, int64_t now);
  Result<std::vector<ApiTokenInfo>> tokens();
  Status revoke_token(const std::string& name);  // also removes its policies
  // The identity of a presented API token ("token:NAME"), or an error with
  // reason "unauthorized" (unknown, revoked or expired: the message says which
  // only for expired).
  Result<std::string> authenticate_token(std::string_view token, int64_t now);

  // Replaces the operations of (identity, scope); an empty list removes it.
  Result<AccessPolicy> set_policy(const std::string& identity, const std::string& scope,
                                  std::vector<Operation> operations, int64_t now);
  Status remove_policy(const std::string& identity, const std::string& scope);
  Result<std::vector<AccessPolicy>> policies();
  // "admin" → true; else a policy of the identity on "*" or on `key` grants `op`.
  bool allowed(const std::string& identity, Operation op, const std::string& key);

  ~AccessControl();

 private:
  struct Impl;
  explicit AccessControl(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tl::keys
