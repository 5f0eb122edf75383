// The embedded store of tlaunchd: RAII over one SQLite database file in WAL
// mode. Callers see only these types; sqlite3.h stays inside database.cc.
//
// A Database and its Statements are used by one thread at a time; give each
// thread (or each request worker) its own Database on the same file. A
// Statement may outlive its Database safely (the connection closes when its
// last statement is finalized), but using it after the Database is gone is a
// bug.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/hex.h"
#include "common/result.h"

struct sqlite3;       // opaque; defined by SQLite inside database.cc
struct sqlite3_stmt;  // opaque

namespace tl::store {

struct Options {
  // How long a statement waits for another connection's write lock before
  // failing with "database is locked".
  int busy_timeout_ms = 5000;
  // Create the file (mode 0600: it holds key material) when it does not exist.
  bool create_if_missing = true;
};

enum class ColumnType { kInteger, kFloat, kText, kBlob, kNull };
const char* to_string(ColumnType type);

// One prepared SQL statement. Binding indexes are 1-based (SQLite's ?1, ?2 …),
// column indexes 0-based. Getters are strict: reading a NULL or a value of
// another storage class is an error, never a silent 0 or "".
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Status bind_int64(int index, int64_t value);
  Status bind_text(int index, std::string_view value);  // stored as given (UTF-8 expected)
  Status bind_blob(int index, ByteView value);          // an empty view binds an empty blob, not NULL
  Status bind_null(int index);

  // true: a row is available through the column getters; false: done.
  Result<bool> step();
  // Back to before the first step, with every binding cleared to NULL.
  Status reset();

  int column_count() const;
  Result<ColumnType> column_type(int column) const;
  Result<bool> column_is_null(int column) const;
  Result<int64_t> column_int64(int column) const;
  Result<std::string> column_text(int column) const;
  Result<Bytes> column_blob(int column) const;

  std::string sql() const;

 private:
  friend class Database;
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Error error(std::string_view what) const;
  Status check_column(int column) const;

  sqlite3_stmt* stmt_ = nullptr;
  bool has_row_ = false;
};

class Database {
 public:
  // Opens (or creates) the database at `path` and sets journal_mode=WAL
  // (verified), foreign_keys=ON (verified), synchronous=NORMAL and the busy
  // timeout. See docs/store.md for why.
  static Result<Database> open(const std::filesystem::path& path, const Options& options = {});

  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Runs one or more ';'-separated statements that return no rows of interest.
  Status exec(std::string_view sql);
  // Like exec, but only inside an open transaction, and refusing (at prepare
  // time, before anything runs) BEGIN/COMMIT/ROLLBACK/SAVEPOINT/RELEASE, so the
  // script cannot end the caller's transaction. Used for migrations.
  Status exec_in_transaction(std::string_view sql);
  // Prepares exactly one statement; trailing SQL after it is an error.
  Result<Statement> prepare(std::string_view sql);

  // True when inside an explicit transaction (BEGIN … not yet ended).
  bool in_transaction() const;
  int64_t last_insert_rowid() const;
  int64_t changes() const;  // rows changed by the last INSERT/UPDATE/DELETE
  const std::filesystem::path& path() const { return path_; }

 private:
  Database(sqlite3* db, std::filesystem::path path) : db_(db), path_(std::move(path)) {}
  void close();

  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
};

// BEGIN IMMEDIATE (takes the write lock at once, so a transaction never fails
// half-way with a lock upgrade error); ROLLBACK in the destructor unless
// commit() succeeded.
class Transaction {
 public:
  static Result<Transaction> begin(Database& db);

  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  Status commit();
  Status rollback();  // explicit early rollback; the destructor then does nothing

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_ = nullptr;  // null once committed / rolled back / moved from
};

}  // namespace tl::store
