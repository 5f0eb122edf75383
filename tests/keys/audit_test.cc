// The audit log on a real SQLite file: ids, every field round-trips, 8 threads
// recording at once (group commit) with nothing lost or reordered, query
// filters and paging, and a store that cannot be written failing every
// waiter. Prints the records/s of 8 concurrent callers.
#include "keys/audit.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/cli_runner.h"

namespace tl::keys {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kT0 = 1795377600;

AuditEntry entry(const std::string& caller, const std::string& key, const std::string& outcome,
                 const std::string& detail = "") {
  AuditEntry e;
  e.at = kT0;
  e.caller = caller;
  e.operation = "release";
  e.key_name = key;
  e.outcome = outcome;
  e.detail = detail;
  return e;
}

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.path() / "tlaunchd.db";
    auto log = AuditLog::open(db_);
    ASSERT_TRUE(log) << log.error().message;
    log_ = std::move(*log);
  }

  std::vector<AuditEntry> all() {
    AuditQuery q;
    q.limit = 1000000;
    auto r = log_->query(q);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : std::vector<AuditEntry>{};
  }

  test::TempDir dir_;
  fs::path db_;
  std::unique_ptr<AuditLog> log_;
};

TEST_F(AuditTest, IdsIncreaseAndEveryFieldIsKept) {
  AuditEntry e;
  e.at = kT0 + 1;
  e.caller = "vm:0f1e";
  e.operation = "release";
  e.key_name = "app-key";
  e.key_version = std::string(32, 'a');
  e.token_jti = "jti-1";
  e.token_issuer = "https://attest.example";
  e.clause = "anyOf[0].allOf[1]";
  e.outcome = "denied";
  e.reason = "release-policy-denied";
  e.detail = "claim \"secureboot\" is false, policy requires equals true";
  auto id1 = log_->record(e);
  ASSERT_TRUE(id1) << id1.error().message;
  auto id2 = log_->record(entry("admin", "", "allowed"));
  ASSERT_TRUE(id2);
  EXPECT_GT(*id2, *id1);

  const auto got = all();
  ASSERT_EQ(got.size(), 2u);
  const AuditEntry& g = got[0];
  EXPECT_EQ(g.id, *id1);
  EXPECT_EQ(g.at, e.at);
  EXPECT_EQ(g.caller, e.caller);
  EXPECT_EQ(g.operation, e.operation);
  EXPECT_EQ(g.key_name, e.key_name);
  EXPECT_EQ(g.key_version, e.key_version);
  EXPECT_EQ(g.token_jti, e.token_jti);
  EXPECT_EQ(g.token_issuer, e.token_issuer);
  EXPECT_EQ(g.clause, e.clause);
  EXPECT_EQ(g.outcome, e.outcome);
  EXPECT_EQ(g.reason, e.reason);
  EXPECT_EQ(g.detail, e.detail);
  EXPECT_EQ(got[1].id, *id2);
}

TEST_F(AuditTest, AnEntryTheTableWouldRefuseIsRefusedAloneBeforeQueueing) {
  EXPECT_FALSE(log_->record(entry("admin", "k", "maybe")));
  EXPECT_FALSE(log_->record(entry("", "k", "allowed")));
  AuditEntry no_op = entry("admin", "k", "allowed");
  no_op.operation.clear();
  EXPECT_FALSE(log_->record(no_op));
  EXPECT_TRUE(log_->record(entry("admin", "k", "allowed")));
  EXPECT_EQ(all().size(), 1u);
}

TEST_F(AuditTest, EightThreadsOf200AllLandInOrderPerThread) {
  constexpr int kThreads = 8, kEach = 200;
  std::vector<std::vector<int64_t>> ids(kThreads);
  std::atomic<int> failures{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto id = log_->record(entry("token:t" + std::to_string(t), "k" + std::to_string(t % 2),
                                     i % 3 == 0 ? "denied" : "allowed", std::to_string(i)));
        if (!id) {
          ++failures;
          continue;
        }
        ids[t].push_back(*id);
      }
    });
  }
  for (auto& th : threads) th.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[ audit ] %d records from %d threads in %.3f s: %.0f records/s\n", kThreads * kEach, kThreads,
              seconds, kThreads * kEach / seconds);
  RecordProperty("records_per_second", static_cast<int>(kThreads * kEach / seconds));
  ASSERT_EQ(failures.load(), 0);

  // Each caller's ids increase (record returns only once committed).
  for (const auto& v : ids) {
    ASSERT_EQ(v.size(), size_t{kEach});
    EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));
  }
  // All are there, each thread's in the order it recorded them.
  const auto got = all();
  ASSERT_EQ(got.size(), size_t{kThreads * kEach});
  std::map<std::string, int> next;
  std::set<int64_t> seen;
  for (const auto& e : got) {
    EXPECT_EQ(std::stoi(e.detail), next[e.caller]++) << e.caller;
    seen.insert(e.id);
  }
  EXPECT_EQ(seen.size(), got.size());
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(next["token:t" + std::to_string(t)], kEach);
}

TEST_F(AuditTest, QueryFiltersByKeyAndOutcomeAndPagesById) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 30; ++i) {
    auto id = log_->record(entry("admin", i % 3 == 0 ? "a" : "b", i % 2 == 0 ? "allowed" : "denied",
                                 std::to_string(i)));
    ASSERT_TRUE(id);
    ids.push_back(*id);
  }
  AuditQuery q;
  q.key_name = "a";
  auto a = log_->query(q);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->size(), 10u);
  for (const auto& e : *a) EXPECT_EQ(e.key_name, "a");

  q.outcome = "denied";  // i odd and i % 3 == 0: 3, 9, 15, 21, 27
  auto ad = log_->query(q);
  ASSERT_TRUE(ad);
  ASSERT_EQ(ad->size(), 5u);
  for (size_t i = 0; i < ad->size(); ++i) EXPECT_EQ((*ad)[i].detail, std::to_string(3 + 6 * i));

  // Pages of 7 over everything: each page continues after the last id.
  AuditQuery page;
  page.limit = 7;
  std::vector<int64_t> paged;
  int pages = 0;
  while (true) {
    auto p = log_->query(page);
    ASSERT_TRUE(p);
    if (p->empty()) break;
    EXPECT_LE(p->size(), 7u);
    for (const auto& e : *p) paged.push_back(e.id);
    page.after_id = p->back().id;
    ++pages;
  }
  EXPECT_EQ(paged, ids);
  EXPECT_EQ(pages, 5);

  AuditQuery zero;
  zero.limit = 0;
  EXPECT_TRUE(log_->query(zero)->empty());
  AuditQuery bad;
  bad.outcome = "maybe";
  auto r = log_->query(bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "audit-query-invalid");
}

TEST_F(AuditTest, ReopenedTheEntriesAreStillThereAndIdsContinue) {
  auto first = log_->record(entry("admin", "k", "allowed"));
  ASSERT_TRUE(first);
  log_.reset();
  auto log = AuditLog::open(db_);
  ASSERT_TRUE(log);
  log_ = std::move(*log);
  auto second = log_->record(entry("admin", "k", "allowed"));
  ASSERT_TRUE(second);
  EXPECT_GT(*second, *first);
  EXPECT_EQ(all().size(), 2u);
}

// Sets or clears the immutable attribute: even root cannot write the file then,
// through descriptors already open too.
bool set_immutable(const fs::path& p, bool on) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  int flags = 0;
  bool ok = ::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
  if (ok) {
    flags = on ? (flags | FS_IMMUTABLE_FL) : (flags & ~FS_IMMUTABLE_FL);
    ok = ::ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
  }
  ::close(fd);
  return ok;
}

TEST_F(AuditTest, WhenTheStoreCannotBeWrittenEveryWaiterGetsTheError) {
  ASSERT_TRUE(log_->record(entry("admin", "k", "allowed")));
  const fs::path wal = db_.string() + "-wal";
  ASSERT_TRUE(fs::exists(wal));
  if (!set_immutable(db_, true)) GTEST_SKIP() << "cannot set the immutable attribute here (needs CAP_LINUX_IMMUTABLE)";
  const bool wal_locked = set_immutable(wal, true);
  ASSERT_TRUE(wal_locked);

  constexpr int kThreads = 4;
  std::atomic<int> errors{0}, unavailable{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      auto r = log_->record(entry("admin", "k", "allowed"));
      if (!r) {
        ++errors;
        if (r.error().reason == "unavailable") ++unavailable;
      }
    });
  }
  for (auto& th : threads) th.join();
  set_immutable(wal, false);
  set_immutable(db_, false);
  EXPECT_EQ(errors.load(), kThreads);
  EXPECT_EQ(unavailable.load(), kThreads);

  // Writable again, the log works again and kept only what was committed.
  EXPECT_TRUE(log_->record(entry("admin", "k", "allowed")));
  EXPECT_EQ(all().size(), 2u);
}

}  // namespace
}  // namespace tl::keys
