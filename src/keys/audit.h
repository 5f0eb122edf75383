// The key vault's audit log (docs/keyvault.md "Audit"): every release and
// denial, and every change to keys, tokens and access policies, durably.
//
// record() returns only after the entry is committed with synchronous=FULL:
// entries from concurrent callers are committed together by one writer thread
// (group commit), so durability costs one fsync per batch, not per entry.
// When the entry cannot be written the caller must not go on (a release is
// refused with reason "unavailable").
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace tl::keys {

struct AuditEntry {
  int64_t id = 0;     // assigned when written; increasing
  int64_t at = 0;     // seconds since the epoch
  std::string caller;     // identity ("token:ci", "vm:…", "admin", "anonymous")
  std::string operation;  // "release", "create", "delete", "set-policy", …
  std::string key_name;   // empty when none
  std::string key_version;
  std::string token_jti;     // release: the target token's jti (may be empty)
  std::string token_issuer;  // release: its iss
  std::string clause;        // release: the policy clause that decided
  std::string outcome;       // "allowed" | "denied"
  std::string reason;        // denied: the problem reason ("release-policy-denied" …)
  std::string detail;        // for people; never secret
};

struct AuditQuery {
  std::string key_name;         // empty: every key
  std::optional<std::string> outcome;
  int64_t after_id = 0;         // paging: entries with id > after_id
  size_t limit = 100;
};

class AuditLog {
 public:
  static Result<std::unique_ptr<AuditLog>> open(const std::filesystem::path& db);
  ~AuditLog();  // writes what is queued, then stops the writer
  Result<int64_t> record(AuditEntry entry);  // blocks until committed; returns the id
  Result<std::vector<AuditEntry>> query(const AuditQuery& q);

 private:
  struct Impl;
  explicit AuditLog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tl::keys
