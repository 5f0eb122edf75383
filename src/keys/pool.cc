// The connection pool shared by the vault, access control and the audit log.
#include "keys/internal.h"
#include "store/migrate.h"
#include "store/schema.h"

namespace tl::keys::detail {

Pool::Lease::~Lease() {
  std::lock_guard lock(pool_->mu_);
  pool_->free_.push_back(std::move(db_));
  pool_->cv_.notify_one();
}

Result<std::unique_ptr<Pool>> Pool::open(const std::filesystem::path& path, unsigned connections,
                                         std::string_view pragmas) {
  std::unique_ptr<Pool> pool(new Pool());
  const unsigned n = connections == 0 ? 1 : connections;
  for (unsigned i = 0; i < n; ++i) {
    auto db = store::Database::open(path);
    if (!db) return unavailable(with_context("database " + path.string(), db.take_error()));
    if (i == 0) {
      auto v = store::migrate(*db, store::tlaunchd_migrations());
      if (!v) return unavailable(with_context("database " + path.string(), v.take_error()));
    }
    if (!pragmas.empty()) {
      if (auto st = db->exec(pragmas); !st) {
        return unavailable(with_context("database " + path.string(), st.take_error()));
      }
    }
    pool->free_.push_back(std::move(*db));
  }
  return pool;
}

Pool::Lease Pool::lease() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !free_.empty(); });
  store::Database db = std::move(free_.back());
  free_.pop_back();
  return Lease(this, std::move(db));
}

Result<std::optional<int64_t>> opt_int(store::Statement& st, int col) {
  TL_KEYS_ASSIGN(is_null, st.column_is_null(col));
  if (is_null) return std::optional<int64_t>{};
  TL_KEYS_ASSIGN(v, st.column_int64(col));
  return std::optional<int64_t>{v};
}

Result<std::optional<std::string>> opt_text(store::Statement& st, int col) {
  TL_KEYS_ASSIGN(is_null, st.column_is_null(col));
  if (is_null) return std::optional<std::string>{};
  TL_KEYS_ASSIGN(v, st.column_text(col));
  return std::optional<std::string>{std::move(v)};
}

Status bind_opt(store::Statement& st, int index, const std::optional<int64_t>& v) {
  return v ? st.bind_int64(index, *v) : st.bind_null(index);
}

Status run(store::Statement& st) {
  TL_KEYS_ASSIGN(row, st.step());
  (void)row;
  return {};
}

}  // namespace tl::keys::detail
