#include "store/database.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <thread>

#include "support/cli_runner.h"

namespace tl::store {
namespace {

using ::testing::HasSubstr;

Database open_ok(const std::filesystem::path& p, Options o = {}) {
  auto db = Database::open(p, o);
  EXPECT_TRUE(db.ok()) << db.error().message;
  return std::move(db).value();
}

int64_t count(Database& db, const std::string& table) {
  auto st = db.prepare("SELECT count(*) FROM " + table);
  EXPECT_TRUE(st.ok()) << st.error().message;
  auto row = st->step();
  EXPECT_TRUE(row.ok() && *row);
  return *st->column_int64(0);
}

TEST(Database, OpenCreatesFileInWalModeWithPrivatePermissions) {
  test::TempDir dir;
  const auto path = dir.path() / "tl.db";
  Database db = open_ok(path);
  ASSERT_TRUE(std::filesystem::exists(path));
  struct stat sb {};
  ASSERT_EQ(::stat(path.c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0600u);

  auto mode = db.prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode.ok());
  ASSERT_TRUE(*mode->step());
  EXPECT_EQ(*mode->column_text(0), "wal");
  auto fk = db.prepare("PRAGMA foreign_keys");
  ASSERT_TRUE(*fk->step());
  EXPECT_EQ(*fk->column_int64(0), 1);
  auto sync = db.prepare("PRAGMA synchronous");
  ASSERT_TRUE(*sync->step());
  EXPECT_EQ(*sync->column_int64(0), 1);  // NORMAL

  ASSERT_TRUE(db.exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);").ok());
  EXPECT_TRUE(std::filesystem::exists(path.string() + "-wal"));
}

TEST(Database, OpenRefusesMissingFileWithoutCreateAndNonDatabaseFiles) {
  test::TempDir dir;
  auto missing = Database::open(dir.path() / "nope.db", Options{.create_if_missing = false});
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().message, HasSubstr("nope.db"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "nope.db"));

  const auto junk = dir.file("junk.db", as_bytes(std::string(4096, 'x')));
  auto bad = Database::open(junk);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message, HasSubstr("junk.db"));
  EXPECT_THAT(bad.error().message, HasSubstr("not a database"));
}

TEST(Database, RoundTripsExtremesBlobsWithNulAndUtf8) {
  test::TempDir dir;
  Database db = open_ok(dir.path() / "tl.db");
  ASSERT_TRUE(db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, s TEXT, b BLOB)").ok());
  const int64_t vals[] = {std::numeric_limits<int64_t>::min(), -1, 0, std::numeric_limits<int64_t>::max()};
  const Bytes blob = {0x00, 0x01, 0x00, 0xff, 0x00};
  const std::string utf8 = "gr\xc3\xbc\xc3\x9f \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x92";  // grüß 日本 🔒
  auto ins = db.prepare("INSERT INTO t (i, s, b) VALUES (?1, ?2, ?3)");
  ASSERT_TRUE(ins.ok()) << ins.error().message;
  for (int64_t v : vals) {
    ASSERT_TRUE(ins->bind_int64(1, v).ok());
    ASSERT_TRUE(ins->bind_text(2, utf8).ok());
    ASSERT_TRUE(ins->bind_blob(3, blob).ok());
    auto r = ins->step();
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_FALSE(*r);
    ASSERT_TRUE(ins->reset().ok());
  }
  // Empty text and blob stay empty (not NULL); NULL stays NULL.
  ASSERT_TRUE(ins->bind_int64(1, 7).ok());
  ASSERT_TRUE(ins->bind_text(2, std::string_view()).ok());
  ASSERT_TRUE(ins->bind_blob(3, ByteView()).ok());
  ASSERT_TRUE(ins->step().ok());
  ASSERT_TRUE(ins->reset().ok());
  ASSERT_TRUE(ins->bind_null(1).ok());
  ASSERT_TRUE(ins->step().ok());  // s and b are NULL after reset() cleared them

  auto sel = db.prepare("SELECT i, s, b FROM t ORDER BY id");
  ASSERT_TRUE(sel.ok());
  for (int64_t v : vals) {
    ASSERT_TRUE(*sel->step());
    EXPECT_EQ(*sel->column_int64(0), v);
    EXPECT_EQ(*sel->column_text(1), utf8);
    EXPECT_EQ(*sel->column_blob(2), blob);
  }
  ASSERT_TRUE(*sel->step());
  EXPECT_EQ(*sel->column_type(1), ColumnType::kText);
  EXPECT_EQ(*sel->column_text(1), "");
  EXPECT_EQ(*sel->column_type(2), ColumnType::kBlob);
  EXPECT_TRUE(sel->column_blob(2)->empty());
  ASSERT_TRUE(*sel->step());
  EXPECT_TRUE(*sel->column_is_null(0));
  // Strict getters: NULL is not 0, and a column past the end is an error.
  auto as_int = sel->column_int64(0);
  ASSERT_FALSE(as_int.ok());
  EXPECT_THAT(as_int.error().message, HasSubstr("expected INTEGER, the value is NULL"));
  EXPECT_FALSE(sel->column_text(3).ok());
  EXPECT_FALSE(*sel->step());
  EXPECT_THAT(sel->column_int64(0).error().message, HasSubstr("no current row"));
}

TEST(Database, ErrorsNameTheSqlAndSqlitesMessage) {
  test::TempDir dir;
  Database db = open_ok(dir.path() / "tl.db");
  auto bad = db.prepare("SELECT nosuchcol FROM nosuchtable");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message, HasSubstr("SELECT nosuchcol FROM nosuchtable"));
  EXPECT_THAT(bad.error().message, HasSubstr("no such table: nosuchtable"));

  auto ex = db.exec("CREATE TABLE t (x INTEGER NOT NULL); INSERT INTO t VALUES (NULL)");
  ASSERT_FALSE(ex.ok());
  EXPECT_THAT(ex.error().message, HasSubstr("INSERT INTO t VALUES (NULL)"));
  EXPECT_THAT(ex.error().message, HasSubstr("NOT NULL constraint failed: t.x"));

  ASSERT_TRUE(db.exec("CREATE TABLE u (k TEXT PRIMARY KEY)").ok());
  auto ins = db.prepare("INSERT INTO u (k) VALUES (?1)");
  ASSERT_TRUE(ins->bind_text(1, "a").ok());
  ASSERT_TRUE(*ins->step() == false);
  ASSERT_TRUE(ins->reset().ok());
  ASSERT_TRUE(ins->bind_text(1, "a").ok());
  auto dup = ins->step();
  ASSERT_FALSE(dup.ok());
  EXPECT_THAT(dup.error().message, HasSubstr("INSERT INTO u (k) VALUES (?1)"));
  EXPECT_THAT(dup.error().message, HasSubstr("UNIQUE constraint failed: u.k"));

  auto range = ins->bind_int64(2, 1);
  ASSERT_FALSE(range.ok());
  EXPECT_THAT(range.error().message, HasSubstr("?2"));

  auto two = db.prepare("SELECT 1; SELECT 2");
  ASSERT_FALSE(two.ok());
  EXPECT_THAT(two.error().message, HasSubstr("more than one statement"));
}

TEST(Database, ForeignKeysAreEnforced) {
  test::TempDir dir;
  Database db = open_ok(dir.path() / "tl.db");
  ASSERT_TRUE(db.exec("CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (pid INTEGER REFERENCES p(id))").ok());
  auto s = db.exec("INSERT INTO c VALUES (42)");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message, HasSubstr("FOREIGN KEY constraint failed"));
}

TEST(Transaction, RollsBackOnScopeExitAndCommitsOnRequest) {
  test::TempDir dir;
  Database db = open_ok(dir.path() / "tl.db");
  ASSERT_TRUE(db.exec("CREATE TABLE t (x INTEGER)").ok());
  {
    auto txn = Transaction::begin(db);
    ASSERT_TRUE(txn.ok()) << txn.error().message;
    ASSERT_TRUE(db.exec("INSERT INTO t VALUES (1)").ok());
    EXPECT_TRUE(db.in_transaction());
    EXPECT_FALSE(Transaction::begin(db).ok());  // no nesting
  }
  EXPECT_FALSE(db.in_transaction());
  EXPECT_EQ(count(db, "t"), 0);
  {
    auto txn = Transaction::begin(db);
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(db.exec("INSERT INTO t VALUES (2)").ok());
    ASSERT_TRUE(txn->commit().ok());
    EXPECT_FALSE(txn->commit().ok());
  }
  EXPECT_EQ(count(db, "t"), 1);
}

TEST(Database, SecondHandleSeesCommittedDataOnly) {
  test::TempDir dir;
  const auto path = dir.path() / "tl.db";
  Database a = open_ok(path);
  Database b = open_ok(path);
  ASSERT_TRUE(a.exec("CREATE TABLE t (x INTEGER)").ok());
  auto txn = Transaction::begin(a);
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE(a.exec("INSERT INTO t VALUES (1)").ok());
  EXPECT_EQ(count(b, "t"), 0);  // WAL: readers do not block and see the last commit
  ASSERT_TRUE(txn->commit().ok());
  EXPECT_EQ(count(b, "t"), 1);
}

TEST(Database, ConcurrentWriterFailsAfterTheBusyTimeout) {
  test::TempDir dir;
  const auto path = dir.path() / "tl.db";
  Database a = open_ok(path);
  Database b = open_ok(path, Options{.busy_timeout_ms = 100});
  ASSERT_TRUE(a.exec("CREATE TABLE t (x INTEGER)").ok());
  auto txn = Transaction::begin(a);
  ASSERT_TRUE(txn.ok());
  const auto t0 = std::chrono::steady_clock::now();
  auto s = b.exec("INSERT INTO t VALUES (2)");
  const auto waited = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message, HasSubstr("database is locked"));
  EXPECT_GE(waited, std::chrono::milliseconds(80));
  EXPECT_LT(waited, std::chrono::seconds(2));
}

TEST(Database, ConcurrentWriterWaitsForTheLockWithinTheTimeout) {
  test::TempDir dir;
  const auto path = dir.path() / "tl.db";
  Database a = open_ok(path);
  Database b = open_ok(path, Options{.busy_timeout_ms = 3000});
  ASSERT_TRUE(a.exec("CREATE TABLE t (x INTEGER)").ok());
  auto txn = Transaction::begin(a);
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE(a.exec("INSERT INTO t VALUES (1)").ok());

  Status writer_status;
  std::thread writer([&] { writer_status = b.exec("INSERT INTO t VALUES (2)"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const Status committed = txn->commit();
  writer.join();
  ASSERT_TRUE(committed.ok()) << committed.error().message;
  ASSERT_TRUE(writer_status.ok()) << writer_status.error().message;
  EXPECT_EQ(count(a, "t"), 2);
}

}  // namespace
}  // namespace tl::store
