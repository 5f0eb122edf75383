#include "store/migrate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "store/schema.h"
#include "support/cli_runner.h"

namespace tl::store {
namespace {

using ::testing::HasSubstr;

Database open_ok(const std::filesystem::path& p) {
  auto db = Database::open(p);
  EXPECT_TRUE(db.ok()) << db.error().message;
  return std::move(db).value();
}

bool table_exists(Database& db, std::string_view name) {
  auto st = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1");
  EXPECT_TRUE(st.ok());
  EXPECT_TRUE(st->bind_text(1, name).ok());
  auto row = st->step();
  EXPECT_TRUE(row.ok());
  return row.ok() && *row;
}

struct History {
  std::vector<int64_t> versions;
  std::vector<std::string> names;
  std::vector<int64_t> applied_at;
};

History history(Database& db) {
  History h;
  auto st = db.prepare("SELECT version, name, applied_at FROM schema_migrations ORDER BY version");
  EXPECT_TRUE(st.ok()) << st.error().message;
  while (*st->step()) {
    h.versions.push_back(*st->column_int64(0));
    h.names.push_back(*st->column_text(1));
    h.applied_at.push_back(*st->column_int64(2));
  }
  return h;
}

// Not IF NOT EXISTS on purpose: running a migration twice would fail.
const Migration kTwo[] = {
    {1, "create a", "CREATE TABLE a (x INTEGER)"},
    {2, "create b", "CREATE TABLE b (y TEXT); CREATE INDEX b_y ON b (y)"},
};

TEST(Migrate, FromEmptyAppliesAllAndRecordsThem) {
  test::TempDir dir;
  Database db = open_ok(dir.path() / "tl.db");
  auto v0 = schema_version(db);
  ASSERT_TRUE(v0.ok());
  EXPECT_EQ(*v0, 0);
  auto v = migrate(db, kTwo);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(*v, 2);
  EXPECT_EQ(*schema_version(db), 2);
  EXPECT_TRUE(table_exists(db, "a"));
  EXPECT_TRUE(table_exists(db, "b"));
  const History h = history(db);
  EXPECT_EQ(h.versions, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(h.names, (std::vector<std::string>{"create a", "create b"}));
  for (int64_t t : h.applied_at) EXPECT_GT(t, 1'600'000'000);
}

TEST(Migrate, SecondRunAppliesNothingAndLaterListsApplyOnlyTheNewOnes) {
  test::TempDir dir;
  const auto path = dir.path() / "tl.db";
  {
    Database db = open_ok(path);
    ASSERT_TRUE(migrate(db, std::span(kTwo).first(1)).ok());
  }
  Database db = open_ok(path);  // as after a restart
  const History before = history(db);
  auto v = migrate(db, kTwo);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(*v, 2);
  auto again = migrate(db, kTwo);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(*again, 2);
  const History after = history(db);
  EXPECT_EQ(after.versions, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(after.applied_at[0], before.applied_at[0]);
}

TEST(Migrate, RefusesADatabaseNewerThanTheCode) {
  test::TempDir dir;
  Database db = open_ok(dir.path() / "tl.db");
  ASSERT_TRUE(migrate(db, kTwo).ok());
  auto v = migrate(db, std::span(kTwo).first(1));
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.error().message, HasSubstr("schema version 2"));
  EXPECT_THAT(v.error().message, HasSubstr("only up to version 1"));
  EXPECT_EQ(*schema_version(db), 2);
  EXPECT_FALSE(migrate(db, std::span<const Migration>()).ok());
}

TEST(Migrate, RefusesARenamedMigration) {
  test::TempDir dir;
  Database db = open_ok(dir.path() / "tl.db");
  ASSERT_TRUE(migrate(db, kTwo).ok());
  const Migration edited[] = {kTwo[0], {2, "create b and c", "CREATE TABLE c (z INTEGER)"}};
  auto v = migrate(db, edited);
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.error().message, HasSubstr("\"create b\""));
  EXPECT_THAT(v.error().message, HasSubstr("\"create b and c\""));
  EXPECT_THAT(v.error().message, HasSubstr("never be edited"));
  EXPECT_FALSE(table_exists(db, "c"));
}

TEST(Migrate, RefusesAMigrationInsertedBelowTheRecordedVersion) {
  test::TempDir dir;
  Database db = open_ok(dir.path() / "tl.db");
  const Migration first[] = {{1, "create a", "CREATE TABLE a (x INTEGER)"}, {3, "create c", "CREATE TABLE c (x INTEGER)"}};
  ASSERT_TRUE(migrate(db, first).ok());
  const Migration inserted[] = {first[0], {2, "late", "CREATE TABLE late (x INTEGER)"}, first[1]};
  auto v = migrate(db, inserted);
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.error().message, HasSubstr("migration 2 \"late\" was never applied"));
  EXPECT_FALSE(table_exists(db, "late"));
}

TEST(Migrate, RefusesAListThatIsNotStrictlyIncreasing) {
  test::TempDir dir;
  Database db = open_ok(dir.path() / "tl.db");
  const Migration dup[] = {{1, "one", "CREATE TABLE a (x INTEGER)"}, {1, "again", "CREATE TABLE b (x INTEGER)"}};
  auto v = migrate(db, dup);
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.error().message, HasSubstr("not strictly increasing"));
  const Migration zero[] = {{0, "zero", "CREATE TABLE a (x INTEGER)"}};
  EXPECT_FALSE(migrate(db, zero).ok());
  EXPECT_FALSE(table_exists(db, "a"));
  EXPECT_EQ(*schema_version(db), 0);
}

TEST(Migrate, AFailingMigrationRollsBackEntirelyAndIsNamed) {
  test::TempDir dir;
  Database db = open_ok(dir.path() / "tl.db");
  const Migration bad[] = {
      kTwo[0],
      // The first statement succeeds, the second is a syntax error.
      {2, "half broken", "CREATE TABLE partial (x INTEGER); CREATE TABLEE oops (y INTEGER)"},
  };
  auto v = migrate(db, bad);
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.error().message, HasSubstr("migration 2 \"half broken\" failed"));
  EXPECT_THAT(v.error().message, HasSubstr("stays at version 1"));
  EXPECT_THAT(v.error().message, HasSubstr("syntax error"));
  EXPECT_TRUE(table_exists(db, "a"));         // migration 1 committed
  EXPECT_FALSE(table_exists(db, "partial"));  // no half of migration 2
  EXPECT_EQ(*schema_version(db), 1);
  EXPECT_EQ(history(db).versions, (std::vector<int64_t>{1}));
  EXPECT_FALSE(db.in_transaction());
  // Fixed code then migrates normally.
  auto fixed = migrate(db, kTwo);
  ASSERT_TRUE(fixed.ok()) << fixed.error().message;
  EXPECT_EQ(*fixed, 2);
}

TEST(Migrate, RefusesAMigrationThatCommitsOnItsOwn) {
  test::TempDir dir;
  Database db = open_ok(dir.path() / "tl.db");
  const Migration sneaky[] = {{1, "commits", "CREATE TABLE a (x INTEGER); COMMIT"}};
  auto v = migrate(db, sneaky);
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.error().message, HasSubstr("migration 1 \"commits\" failed"));
  EXPECT_THAT(v.error().message, HasSubstr("transaction control"));
  EXPECT_EQ(*schema_version(db), 0);
  EXPECT_FALSE(table_exists(db, "a"));  // the statement before COMMIT was rolled back too
  EXPECT_FALSE(db.in_transaction());
  // The authorizer is gone afterwards: ordinary transactions work again.
  auto txn = Transaction::begin(db);
  ASSERT_TRUE(txn.ok()) << txn.error().message;
  ASSERT_TRUE(txn->commit().ok());
}

TEST(Schema, TlaunchdMigrationsApplyAndDescribeV1) {
  test::TempDir dir;
  Database db = open_ok(dir.path() / "tl.db");
  auto v = migrate(db, tlaunchd_migrations().first(1));
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(*v, 1);
  EXPECT_EQ(tlaunchd_migrations().front().name, "initial");
  for (const char* t : {"vms", "used_challenges", "signing_keys"}) EXPECT_TRUE(table_exists(db, t)) << t;

  // NOT NULL / DEFAULT / PRIMARY KEY as documented.
  EXPECT_FALSE(db.exec("INSERT INTO vms (vm_id, ek_public, enrolled_at) VALUES ('vm1', x'01', 1)").ok());  // ek_name
  ASSERT_TRUE(db.exec("INSERT INTO vms (vm_id, ek_public, ek_name, enrolled_at) VALUES ('vm1', x'01', x'02', 1)").ok());
  auto st = db.prepare("SELECT allow_reenroll, ak_public FROM vms WHERE vm_id = 'vm1'");
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE(*st->step());
  EXPECT_EQ(*st->column_int64(0), 0);
  EXPECT_TRUE(*st->column_is_null(1));
  ASSERT_TRUE(db.exec("INSERT INTO used_challenges VALUES ('c1', 100)").ok());
  EXPECT_FALSE(db.exec("INSERT INTO used_challenges VALUES ('c1', 200)").ok());  // replay is a PK violation
  auto idx = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'used_challenges' AND sql LIKE '%expires_at%'");
  ASSERT_TRUE(*idx->step());
  EXPECT_FALSE(db.exec("INSERT INTO signing_keys (kid, alg, created_at) VALUES ('k', 'ES256', 1)").ok());
}

// A v1 database with an enrolled VM keeps it across the v2 upgrade, and v2 adds
// what enrollment by credential activation needs.
TEST(Schema, TlaunchdV2UpgradesAV1DatabaseWithData) {
  test::TempDir dir;
  Database db = open_ok(dir.path() / "tl.db");
  ASSERT_TRUE(migrate(db, tlaunchd_migrations().first(1)).ok());
  ASSERT_TRUE(db.exec("INSERT INTO vms (vm_id, ek_public, ek_name, enrolled_at) VALUES ('vm1', x'01', x'02', 7)").ok());
  auto v = migrate(db, tlaunchd_migrations().first(2));
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(*v, 2);
  auto st = db.prepare("SELECT enrolled_at, ek_cert_validated, ek_certificate FROM vms WHERE vm_id = 'vm1'");
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE(*st->step());
  EXPECT_EQ(*st->column_int64(0), 7);
  EXPECT_EQ(*st->column_int64(1), 0);
  EXPECT_TRUE(*st->column_is_null(2));
  for (const char* t : {"pending_enrollments", "challenge_keys"}) EXPECT_TRUE(table_exists(db, t)) << t;
  EXPECT_FALSE(db.exec("INSERT INTO challenge_keys (key_id, material, created_at) VALUES (256, x'00', 1)").ok());
  EXPECT_TRUE(db.exec("INSERT INTO challenge_keys (key_id, material, created_at) VALUES (255, x'00', 1)").ok());
  EXPECT_FALSE(db.exec("INSERT INTO pending_enrollments (enrollment_id, vm_id, ek_public, ek_cert_validated, ak_public, expires_at) "
                       "VALUES ('e', 'vm1', x'01', 0, x'02', 1)").ok());  // secret_sha256 is required
}

// v3: one VM per EK, enforced by the database too.
TEST(Schema, TlaunchdV3RefusesOneEkForTwoVms) {
  test::TempDir dir;
  Database db = open_ok(dir.path() / "tl.db");
  auto v = migrate(db, tlaunchd_migrations());
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(*v, static_cast<int>(tlaunchd_migrations().size()));
  ASSERT_TRUE(db.exec("INSERT INTO vms (vm_id, ek_public, ek_name, enrolled_at) VALUES ('vm1', x'01', x'02', 1)").ok());
  EXPECT_FALSE(db.exec("INSERT INTO vms (vm_id, ek_public, ek_name, enrolled_at) VALUES ('vm2', x'01', x'02', 1)").ok());
  EXPECT_TRUE(db.exec("INSERT INTO vms (vm_id, ek_public, ek_name, enrolled_at) VALUES ('vm2', x'03', x'04', 1)").ok());
}

}  // namespace
}  // namespace tl::store
