// What access control's implementation files share: the in-memory copy of
// api_tokens (role "user") and access_policies, and AccessControl::Impl.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "keys/access.h"
#include "keys/internal.h"

namespace tl::keys {

namespace detail {

// API token names: 1-64 of [A-Za-z0-9._-].
bool valid_token_name(std::string_view name);

inline constexpr const char* kUserRole = "user";
inline constexpr const char* kTokenPrefix = "tlk_";

inline uint32_t op_bit(Operation op) { return uint32_t{1} << static_cast<unsigned>(op); }

struct AccessSnapshot {
  struct Token {
    std::string name;
    std::optional<int64_t> expires_at;
  };
  std::unordered_map<std::string, Token> by_hash;  // SHA-256 of the token (raw bytes as a string)
  std::set<std::string> token_names;
  std::map<std::pair<std::string, std::string>, uint32_t> grants;  // (identity, scope) → op bits
};

// Operations as stored: a JSON array of names in alphabetical order.
std::string operations_to_text(const std::vector<Operation>& ops);
Result<std::vector<Operation>> operations_from_text(const std::string& text);

}  // namespace detail

struct AccessControl::Impl {
  std::unique_ptr<detail::Pool> pool;
  std::chrono::milliseconds reload_interval{0};

  std::mutex snap_mu;  // guards snap and loaded_at
  std::shared_ptr<const detail::AccessSnapshot> snap;
  std::chrono::steady_clock::time_point loaded_at;
  std::mutex reload_mu;  // one load at a time, so an older load never replaces a newer one

  // The current copy, reloaded when older than reload_interval. Fails (and
  // callers deny) when it is stale and the database cannot be read.
  Result<std::shared_ptr<const detail::AccessSnapshot>> current();
  // Loads now (after a change through this object). On failure the copy is
  // dropped, so nothing is decided from a copy that may predate the change.
  Status reload();
  Status reload_locked();  // reload_mu held
};

}  // namespace tl::keys
