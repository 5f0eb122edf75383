// What the key vault's implementation files share (not part of the API): the
// connection pool, error helpers and the small validators.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "crypto/key_material.h"
#include "store/database.h"

namespace tl::keys::detail {

#define TL_KEYS_TRY(expr)           \
  do {                              \
    if (auto st_ = (expr); !st_) {  \
      return st_.take_error();      \
    }                               \
  } while (0)

#define TL_KEYS_ASSIGN(var, expr)            \
  auto var##_r = (expr);                     \
  if (!var##_r) return var##_r.take_error(); \
  auto var = std::move(*var##_r)

// Database failures become "unavailable" (the caller may retry); a reason the
// callee already set is kept.
inline Error unavailable(Error e) { return with_reason("unavailable", std::move(e)); }
// A stored row that cannot be read back (edited by hand, or written by a
// newer build): a server fault, never the client's.
inline Error corrupt(const std::string& what) {
  return Error{what + " (the database was changed outside tlaunchd?)", "internal-error"};
}

// A few connections on one file, one per concurrent caller (a SQLite
// connection is single-threaded; WAL lets readers run beside the writer), and
// the one in-process writer lock: SQLite allows one writer at a time, and our
// own mutex is cheaper and fairer than its sleeping busy handler.
class Pool {
 public:
  class Lease {
   public:
    Lease(Pool* pool, store::Database db) : pool_(pool), db_(std::move(db)) {}
    Lease(Lease&&) = delete;
    ~Lease();
    store::Database& operator*() { return db_; }
    store::Database* operator->() { return &db_; }

   private:
    Pool* pool_;
    store::Database db_;
  };

  // Opens `connections` connections (at least 1), migrates the schema on the
  // first (idempotent when tlaunchd's Repository did it already) and runs
  // `pragmas` on each.
  static Result<std::unique_ptr<Pool>> open(const std::filesystem::path& path, unsigned connections,
                                            std::string_view pragmas);

  Lease lease();
  std::mutex& write_mutex() { return write_mu_; }

 private:
  Pool() = default;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<store::Database> free_;
  std::mutex write_mu_;
};

// Nullable columns.
Result<std::optional<int64_t>> opt_int(store::Statement& st, int col);
Result<std::optional<std::string>> opt_text(store::Statement& st, int col);
Status bind_opt(store::Statement& st, int index, const std::optional<int64_t>& v);

// Runs a statement that returns no rows.
Status run(store::Statement& st);

// ---- Key names, versions, ops, tags (key_name.cc) --------------------------

// 1-127 of [0-9a-zA-Z-]; else key-invalid.
Status check_key_name(std::string_view name);
// 32 lowercase hex characters from 128 random bits.
Result<std::string> new_version_id();
// The aad binding sealed material to its key and version, so a sealed blob
// copied to another row does not unseal there.
std::string material_aad(std::string_view name, std::string_view version, bool exportable);
// Empty: every op the kind supports (Key Vault's order); otherwise each must be
// one the kind supports, no repeats (key-invalid naming the op).
Result<std::vector<std::string>> resolve_key_ops(crypto::KeyKind kind, const std::vector<std::string>& ops);
// Key Vault's limits: at most 15 tags, names 1-512 and values 0-256 characters.
Status check_tags(const std::map<std::string, std::string>& tags);
// nbf must be before exp when both are given.
Status check_validity(const std::optional<int64_t>& nbf, const std::optional<int64_t>& exp);

// At the API boundary: an error nobody classified came from the database.
template <class T>
Result<T> classified(Result<T> r) {
  if (!r) return unavailable(r.take_error());
  return r;
}

}  // namespace tl::keys::detail
