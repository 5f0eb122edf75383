#include "store/migrate.h"

#include <chrono>
#include <string>
#include <vector>

namespace tl::store {
namespace {

constexpr std::string_view kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at INTEGER NOT NULL)";  // Unix seconds

struct Recorded {
  int64_t version;
  std::string name;
};

std::string describe(int64_t version, std::string_view name) {
  return "migration " + std::to_string(version) + " \"" + std::string(name) + "\"";
}

Status check_list(std::span<const Migration> migrations) {
  int previous = 0;
  for (const Migration& m : migrations) {
    if (m.version <= previous) {
      return Error{"schema migrations are not strictly increasing: " + describe(m.version, m.name) +
                   " follows version " + std::to_string(previous) + " (versions start at 1)"};
    }
    if (m.name.empty()) return Error{"schema migration " + std::to_string(m.version) + " has no name"};
    previous = m.version;
  }
  return {};
}

Result<std::vector<Recorded>> read_recorded(Database& db) {
  auto st = db.prepare("SELECT version, name FROM schema_migrations ORDER BY version");
  if (!st) return st.take_error();
  std::vector<Recorded> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.take_error();
    if (!*row) break;
    auto v = st->column_int64(0);
    if (!v) return v.take_error();
    auto n = st->column_text(1);
    if (!n) return n.take_error();
    out.push_back({*v, std::move(*n)});
  }
  return out;
}

Result<int64_t> user_version(Database& db) {
  auto st = db.prepare("PRAGMA user_version");
  if (!st) return st.take_error();
  auto row = st->step();
  if (!row) return row.take_error();
  if (!*row) return Error{"PRAGMA user_version returned no row"};
  return st->column_int64(0);
}

// Checks the recorded history against the code's list; returns the recorded
// version, or an error that tells the operator what is wrong.
Result<int64_t> check_history(Database& db, std::span<const Migration> migrations) {
  auto recorded = read_recorded(db);
  if (!recorded) return recorded.take_error();
  const int64_t current = recorded->empty() ? 0 : recorded->back().version;
  const int64_t known = migrations.empty() ? 0 : migrations.back().version;
  const std::string where = "database " + db.path().string();

  if (current > known) {
    return Error{where + " is at schema version " + std::to_string(current) + " but this build knows only up to version " +
                 std::to_string(known) + "; refusing to run older code on a newer database (upgrade tlaunchd, or restore a backup made before the upgrade)"};
  }
  auto uv = user_version(db);
  if (!uv) return uv.take_error();
  if (*uv != current) {
    return Error{where + ": PRAGMA user_version is " + std::to_string(*uv) + " but schema_migrations records version " +
                 std::to_string(current) + "; the file was changed outside tlaunchd, refusing to migrate it"};
  }
  size_t i = 0;  // walks the code's list alongside the recorded rows
  for (const Recorded& r : *recorded) {
    if (i < migrations.size() && migrations[i].version < r.version) {
      return Error{where + ": " + describe(migrations[i].version, migrations[i].name) +
                   " was never applied but the database is already past it (at version " + std::to_string(current) +
                   "); new migrations must be appended with a version above every released one"};
    }
    if (i == migrations.size() || migrations[i].version != r.version) {
      return Error{where + ": recorded " + describe(r.version, r.name) + " is not in this build's migration list"};
    }
    if (migrations[i].name != r.name) {
      return Error{where + ": " + describe(r.version, r.name) + " was applied, but this build names version " +
                   std::to_string(r.version) + " \"" + std::string(migrations[i].name) +
                   "\"; released migrations must never be edited or renamed (add a new migration instead)"};
    }
    ++i;
  }
  return current;
}

int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

Result<int> migrate(Database& db, std::span<const Migration> migrations) {
  if (auto s = check_list(migrations); !s) return s.take_error();
  if (auto s = db.exec(kCreateTable); !s) return s.take_error();

  // One transaction per step; the history is re-read under the write lock each
  // time, so two processes migrating the same file at once cannot both apply a step.
  for (;;) {
    auto txn = Transaction::begin(db);
    if (!txn) return txn.take_error();
    auto current = check_history(db, migrations);
    if (!current) return current.take_error();

    const Migration* next = nullptr;
    for (const Migration& m : migrations) {
      if (m.version > *current) {
        next = &m;
        break;
      }
    }
    if (!next) {
      if (auto s = txn->commit(); !s) return s.take_error();
      return static_cast<int>(*current);
    }

    const std::string what = "schema " + describe(next->version, next->name) + " failed (rolled back, database stays at version " +
                             std::to_string(*current) + ")";
    if (auto s = db.exec_in_transaction(next->sql); !s) return with_context(what, s.take_error());
    auto ins = db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)");
    if (!ins) return with_context(what, ins.take_error());
    if (auto s = ins->bind_int64(1, next->version); !s) return with_context(what, s.take_error());
    if (auto s = ins->bind_text(2, next->name); !s) return with_context(what, s.take_error());
    if (auto s = ins->bind_int64(3, now_unix()); !s) return with_context(what, s.take_error());
    if (auto r = ins->step(); !r) return with_context(what, r.take_error());
    // PRAGMA takes no parameters; the version is an int we formatted ourselves.
    if (auto s = db.exec("PRAGMA user_version = " + std::to_string(next->version)); !s) return with_context(what, s.take_error());
    if (auto s = txn->commit(); !s) return with_context(what, s.take_error());
  }
}

Result<int> schema_version(Database& db) {
  auto uv = user_version(db);
  if (!uv) return uv.take_error();
  return static_cast<int>(*uv);
}

}  // namespace tl::store
