#include "store/database.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

namespace tl::store {
namespace {

// SQL quoted in messages, shortened so a long migration does not flood logs.
std::string quote_sql(std::string_view sql) {
  constexpr size_t kMax = 160;
  std::string s(sql.substr(0, kMax));
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (sql.size() > kMax) s += "...";
  return "\"" + s + "\"";
}

Error sqlite_error(sqlite3* db, std::string_view sql, std::string_view what) {
  const int code = db ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
  std::string msg = std::string(what) + " " + quote_sql(sql) + ": " +
                    (db ? sqlite3_errmsg(db) : "out of memory") + " (" + sqlite3_errstr(code) + ")";
  return Error{std::move(msg)};
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

const char* to_string(ColumnType type) {
  switch (type) {
    case ColumnType::kInteger: return "INTEGER";
    case ColumnType::kFloat: return "REAL";
    case ColumnType::kText: return "TEXT";
    case ColumnType::kBlob: return "BLOB";
    case ColumnType::kNull: return "NULL";
  }
  return "?";
}

// ---- Statement ----

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)), has_row_(std::exchange(other.has_row_, false)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
    has_row_ = std::exchange(other.has_row_, false);
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

std::string Statement::sql() const {
  const char* s = stmt_ ? sqlite3_sql(stmt_) : nullptr;
  return s ? s : "";
}

Error Statement::error(std::string_view what) const {
  return sqlite_error(stmt_ ? sqlite3_db_handle(stmt_) : nullptr, sql(), what);
}

Status Statement::bind_int64(int index, int64_t value) {
  if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) return error("binding ?" + std::to_string(index) + " of");
  return {};
}

Status Statement::bind_text(int index, std::string_view value) {
  // A null data pointer would bind NULL; an empty string must stay "".
  const char* data = value.data() ? value.data() : "";
  if (sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8) != SQLITE_OK) {
    return error("binding ?" + std::to_string(index) + " of");
  }
  return {};
}

Status Statement::bind_blob(int index, ByteView value) {
  const int rc = value.empty() ? sqlite3_bind_zeroblob(stmt_, index, 0)
                               : sqlite3_bind_blob64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) return error("binding ?" + std::to_string(index) + " of");
  return {};
}

Status Statement::bind_null(int index) {
  if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) return error("binding ?" + std::to_string(index) + " of");
  return {};
}

Result<bool> Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    has_row_ = true;
    return true;
  }
  has_row_ = false;
  if (rc == SQLITE_DONE) return false;
  Error e = error("executing");
  sqlite3_reset(stmt_);  // so the statement can be reused after the caller handles the error
  return e;
}

Status Statement::reset() {
  has_row_ = false;
  sqlite3_clear_bindings(stmt_);
  // sqlite3_reset repeats the last step's error; that error was already reported by step().
  sqlite3_reset(stmt_);
  return {};
}

int Statement::column_count() const { return sqlite3_column_count(stmt_); }

Status Statement::check_column(int column) const {
  if (!has_row_) return Error{"reading column " + std::to_string(column) + " of " + quote_sql(sql()) + ": no current row (step() did not return a row)"};
  if (column < 0 || column >= column_count()) {
    return Error{"reading column " + std::to_string(column) + " of " + quote_sql(sql()) + ": the statement has " +
                 std::to_string(column_count()) + " columns"};
  }
  return {};
}

Result<ColumnType> Statement::column_type(int column) const {
  if (auto s = check_column(column); !s) return s.take_error();
  switch (sqlite3_column_type(stmt_, column)) {
    case SQLITE_INTEGER: return ColumnType::kInteger;
    case SQLITE_FLOAT: return ColumnType::kFloat;
    case SQLITE_TEXT: return ColumnType::kText;
    case SQLITE_BLOB: return ColumnType::kBlob;
    default: return ColumnType::kNull;
  }
}

Result<bool> Statement::column_is_null(int column) const {
  auto t = column_type(column);
  if (!t) return t.take_error();
  return *t == ColumnType::kNull;
}

namespace {
Status expect_type(const Statement& st, int column, ColumnType want) {
  auto t = st.column_type(column);
  if (!t) return t.take_error();
  if (*t != want) {
    return Error{"reading column " + std::to_string(column) + " of " + quote_sql(st.sql()) + ": expected " +
                 to_string(want) + ", the value is " + to_string(*t)};
  }
  return {};
}
}  // namespace

Result<int64_t> Statement::column_int64(int column) const {
  if (auto s = expect_type(*this, column, ColumnType::kInteger); !s) return s.take_error();
  return static_cast<int64_t>(sqlite3_column_int64(stmt_, column));
}

Result<std::string> Statement::column_text(int column) const {
  if (auto s = expect_type(*this, column, ColumnType::kText); !s) return s.take_error();
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  const int n = sqlite3_column_bytes(stmt_, column);  // after column_text, as SQLite asks
  return p ? std::string(p, static_cast<size_t>(n)) : std::string();
}

Result<Bytes> Statement::column_blob(int column) const {
  if (auto s = expect_type(*this, column, ColumnType::kBlob); !s) return s.take_error();
  const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, column));
  const int n = sqlite3_column_bytes(stmt_, column);
  return p ? Bytes(p, p + n) : Bytes();  // SQLite returns null for an empty blob
}

// ---- Database ----

Result<Database> Database::open(const std::filesystem::path& path, const Options& options) {
  const std::string where = "database " + path.string();
  if (path.empty()) return Error{"database: empty path"};
  if (options.busy_timeout_ms < 0) return Error{where + ": busy_timeout_ms must be >= 0"};

  std::error_code ec;
  const bool exists = std::filesystem::exists(path, ec);
  if (!exists && !options.create_if_missing) {
    return Error{where + ": no such file (create_if_missing is off)"};
  }
  if (!exists) {
    // Create it ourselves with mode 0600: the store holds signing keys, and
    // SQLite gives the -wal/-shm files the same mode as the database file.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) {
      return Error{where + ": cannot create: " + std::strerror(errno)};
    }
    if (fd >= 0) ::close(fd);
  }

  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_EXRESCODE, nullptr);
  Database db(raw, path);  // owns the handle even when the open failed
  if (rc != SQLITE_OK) {
    return Error{where + ": cannot open: " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc))};
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);

  // journal_mode answers with the mode in force; anything but "wal" (e.g. a
  // file system without shared memory) is refused rather than run slower and
  // with different locking than documented.
  {
    auto st = db.prepare("PRAGMA journal_mode=WAL");
    if (!st) return with_context(where, st.take_error());
    auto row = st->step();
    if (!row) return with_context(where, row.take_error());
    if (!*row) return Error{where + ": PRAGMA journal_mode returned no row"};
    auto mode = st->column_text(0);
    if (!mode) return with_context(where, mode.take_error());
    if (!equals_ignore_case(*mode, "wal")) {
      return Error{where + ": could not switch to WAL journal mode (SQLite kept \"" + *mode +
                   "\"); the file system must support shared memory and locking"};
    }
  }
  if (auto s = db.exec("PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;"); !s) {
    return with_context(where, s.take_error());
  }
  {
    auto st = db.prepare("PRAGMA foreign_keys");
    if (!st) return with_context(where, st.take_error());
    auto row = st->step();
    if (!row) return with_context(where, row.take_error());
    auto on = *row ? st->column_int64(0) : Result<int64_t>(Error{"no row"});
    if (!on || *on != 1) return Error{where + ": foreign key enforcement could not be enabled"};
  }
  return db;
}

Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    close();
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
  }
  return *this;
}

Database::~Database() { close(); }

void Database::close() {
  // close_v2 defers the close until the last Statement is finalized.
  if (db_) sqlite3_close_v2(db_);
  db_ = nullptr;
}

Status Database::exec(std::string_view sql) {
  if (!db_) return Error{"exec on a closed (moved-from) database"};
  const std::string text(sql);  // sqlite3_exec needs a NUL-terminated string
  char* msg = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &msg);
  if (rc != SQLITE_OK) {
    std::string detail = msg ? msg : sqlite3_errstr(rc);
    sqlite3_free(msg);
    return Error{"executing " + quote_sql(sql) + ": " + detail + " (" + sqlite3_errstr(sqlite3_extended_errcode(db_)) + ")"};
  }
  return {};
}

namespace {
int deny_transaction_control(void* denied, int action, const char*, const char*, const char*, const char*) {
  if (action == SQLITE_TRANSACTION || action == SQLITE_SAVEPOINT) {
    *static_cast<bool*>(denied) = true;
    return SQLITE_DENY;
  }
  return SQLITE_OK;
}
}  // namespace

Status Database::exec_in_transaction(std::string_view sql) {
  if (!in_transaction()) return Error{"executing " + quote_sql(sql) + ": no transaction is open"};
  bool denied = false;
  sqlite3_set_authorizer(db_, deny_transaction_control, &denied);
  Status s = exec(sql);
  sqlite3_set_authorizer(db_, nullptr, nullptr);
  if (!s && denied) {
    return Error{"executing " + quote_sql(sql) +
                 ": transaction control (BEGIN/COMMIT/ROLLBACK/SAVEPOINT/RELEASE) is not allowed here"};
  }
  return s;
}

Result<Statement> Database::prepare(std::string_view sql) {
  if (!db_) return Error{"prepare on a closed (moved-from) database"};
  if (sql.size() > static_cast<size_t>(std::numeric_limits<int>::max())) return Error{"SQL text too long"};
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &raw, &tail);
  Statement st(raw);
  if (rc != SQLITE_OK) return sqlite_error(db_, sql, "preparing");
  if (!raw) return Error{"preparing " + quote_sql(sql) + ": no SQL statement in the text"};
  const std::string_view rest(tail, static_cast<size_t>(sql.data() + sql.size() - tail));
  if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
    return Error{"preparing " + quote_sql(sql) + ": more than one statement (prepare takes one; use exec for scripts)"};
  }
  return st;
}

bool Database::in_transaction() const { return db_ && sqlite3_get_autocommit(db_) == 0; }
int64_t Database::last_insert_rowid() const { return db_ ? sqlite3_last_insert_rowid(db_) : 0; }
int64_t Database::changes() const { return db_ ? sqlite3_changes64(db_) : 0; }

// ---- Transaction ----

Result<Transaction> Transaction::begin(Database& db) {
  if (db.in_transaction()) return Error{"BEGIN: a transaction is already open on this connection (no nesting)"};
  if (auto s = db.exec("BEGIN IMMEDIATE"); !s) return s.take_error();
  return Transaction(&db);
}

Transaction::Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Transaction::~Transaction() {
  if (db_) (void)rollback();
}

Status Transaction::commit() {
  if (!db_) return Error{"COMMIT: the transaction is no longer open"};
  if (auto s = db_->exec("COMMIT"); !s) return s;  // still open: the destructor rolls back
  db_ = nullptr;
  return {};
}

Status Transaction::rollback() {
  if (!db_) return Error{"ROLLBACK: the transaction is no longer open"};
  Database* db = std::exchange(db_, nullptr);
  // SQLite may already have rolled back on its own (e.g. after SQLITE_FULL).
  if (!db->in_transaction()) return {};
  return db->exec("ROLLBACK");
}

}  // namespace tl::store
