// The store behind enrollment and single-use challenges, on a real SQLite file.
#include <gtest/gtest.h>

#include <thread>

#include "server/repository.h"
#include "support/cli_runner.h"

namespace tl::server {
namespace {

PendingEnrollment pending(const std::string& vm, uint8_t ek, uint8_t ak) {
  PendingEnrollment p;
  p.enrollment_id = "e-" + vm + "-" + std::to_string(ek) + "-" + std::to_string(ak);
  p.vm_id = vm;
  p.ek_public = Bytes{0x00, 0x01, ek};
  p.ak_public = Bytes{0x00, 0x02, ak};
  p.secret_sha256 = Bytes(32, 0x5a);
  p.expires_at = 1000;
  return p;
}

class RepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = Repository::open(dir_.path() / "t.db", 3);
    ASSERT_TRUE(r.ok()) << r.error().message;
    repo_ = std::move(*r);
  }
  test::TempDir dir_;
  std::unique_ptr<Repository> repo_;
};

TEST_F(RepositoryTest, PendingEnrollmentCanBeTakenOnce) {
  auto p = pending("vm1", 1, 1);
  p.ek_certificate = Bytes{0x30, 0x03};
  p.ek_cert_validated = true;
  ASSERT_TRUE(repo_->put_pending(p).ok());
  auto other_vm = pending("vm2", 2, 2);
  other_vm.enrollment_id = p.enrollment_id;
  EXPECT_FALSE(repo_->put_pending(other_vm).ok());  // an id is unique across VMs
  auto t = repo_->take_pending(p.enrollment_id);
  ASSERT_TRUE(t.ok()) << t.error().message;
  ASSERT_TRUE(t->has_value());
  EXPECT_EQ((*t)->vm_id, "vm1");
  EXPECT_EQ((*t)->ek_public, p.ek_public);
  EXPECT_EQ((*t)->ek_certificate, p.ek_certificate);
  EXPECT_TRUE((*t)->ek_cert_validated);
  EXPECT_EQ((*t)->secret_sha256, p.secret_sha256);
  auto again = repo_->take_pending(p.enrollment_id);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
}

TEST_F(RepositoryTest, SameEkMayBringANewAkButAnotherEkIsATakeover) {
  auto first = repo_->complete_enrollment(pending("vm1", 1, 1), Bytes{1}, Bytes{2}, 10);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->enrolled_at, 10);
  auto new_ak = repo_->complete_enrollment(pending("vm1", 1, 9), Bytes{1}, Bytes{3}, 20);
  ASSERT_TRUE(new_ak.ok()) << new_ak.error().message;
  EXPECT_EQ(new_ak->ak_public, (Bytes{0x00, 0x02, 9}));
  EXPECT_EQ(new_ak->enrolled_at, 10);
  EXPECT_EQ(new_ak->updated_at, 20);

  auto takeover = repo_->complete_enrollment(pending("vm1", 2, 1), Bytes{4}, Bytes{5}, 30);
  ASSERT_FALSE(takeover.ok());
  EXPECT_EQ(takeover.error().reason, "ek-takeover-refused");
  auto still = repo_->find_vm("vm1");
  ASSERT_TRUE(still.ok() && still->has_value());
  EXPECT_EQ((*still)->ek_public, (Bytes{0x00, 0x01, 1}));  // unchanged

  // An operator allows it once; the permission is used up by the re-enrollment.
  ASSERT_TRUE(repo_->allow_reenroll("vm1").ok());
  auto allowed = repo_->complete_enrollment(pending("vm1", 2, 1), Bytes{4}, Bytes{5}, 40);
  ASSERT_TRUE(allowed.ok()) << allowed.error().message;
  EXPECT_EQ(allowed->ek_public, (Bytes{0x00, 0x01, 2}));
  EXPECT_FALSE(allowed->allow_reenroll);
  auto third = repo_->complete_enrollment(pending("vm1", 3, 1), Bytes{6}, Bytes{7}, 50);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().reason, "ek-takeover-refused");

  auto unknown = repo_->allow_reenroll("nope");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().reason, "vm-not-enrolled");
}

TEST_F(RepositoryTest, OneEkCannotBeEnrolledAsTwoVms) {
  ASSERT_TRUE(repo_->complete_enrollment(pending("vm1", 1, 1), Bytes{1}, Bytes{2}, 10).ok());
  auto second = repo_->complete_enrollment(pending("vm2", 1, 1), Bytes{1}, Bytes{2}, 20);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().reason, "ek-already-enrolled");
  auto owner = repo_->vm_of_ek(Bytes{1});
  ASSERT_TRUE(owner.ok() && owner->has_value());
  EXPECT_EQ(**owner, "vm1");
  EXPECT_FALSE(repo_->vm_of_ek(Bytes{9})->has_value());
}

TEST_F(RepositoryTest, OnlyTheNewestPendingEnrollmentOfAVmCounts) {
  auto a = pending("vm1", 1, 1);
  auto b = pending("vm1", 1, 2);
  ASSERT_TRUE(repo_->put_pending(a).ok());
  ASSERT_TRUE(repo_->put_pending(b).ok());
  EXPECT_FALSE(repo_->take_pending(a.enrollment_id)->has_value());
  EXPECT_TRUE(repo_->take_pending(b.enrollment_id)->has_value());
}

TEST_F(RepositoryTest, ChallengesAreSingleUseEvenUnderConcurrency) {
  auto a = repo_->consume_challenge("c1", 100);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(*a);
  auto b = repo_->consume_challenge("c1", 100);
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(*b);

  // Eight threads race for the same ids: each id is won exactly once.
  std::atomic<int> wins{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 8; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        auto r = repo_->consume_challenge("race-" + std::to_string(i), 100);
        if (r.ok() && *r) ++wins;
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(wins.load(), 25);
}

TEST_F(RepositoryTest, PruneDropsOnlyExpiredEntries) {
  ASSERT_TRUE(repo_->consume_challenge("old", 50).ok());
  ASSERT_TRUE(repo_->consume_challenge("new", 500).ok());
  auto p = pending("vm1", 1, 1);
  p.expires_at = 50;
  ASSERT_TRUE(repo_->put_pending(p).ok());
  ASSERT_TRUE(repo_->prune(100).ok());
  EXPECT_TRUE(*repo_->consume_challenge("old", 50));   // forgotten after expiry: the MAC check still refuses it
  EXPECT_FALSE(*repo_->consume_challenge("new", 500));  // still remembered
  EXPECT_FALSE(repo_->take_pending(p.enrollment_id)->has_value());
}

TEST_F(RepositoryTest, StateSurvivesReopening) {
  ASSERT_TRUE(repo_->complete_enrollment(pending("vm1", 1, 1), Bytes{1}, Bytes{2}, 10).ok());
  repo_.reset();
  auto r = Repository::open(dir_.path() / "t.db", 1);
  ASSERT_TRUE(r.ok());
  auto vm = (*r)->find_vm("vm1");
  ASSERT_TRUE(vm.ok() && vm->has_value());
  EXPECT_EQ((*vm)->ak_name, (Bytes{2}));
}

}  // namespace
}  // namespace tl::server
