// Access control on a real SQLite file: API tokens (issue, authenticate,
// expiry, revoke, stored as SHA-256 only), identities, access policies per
// vault and per key, the allowed() matrix, and a second AccessControl on the
// same database seeing changes within its reload window.
#include "keys/access.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "crypto/digest.h"
#include "store/database.h"
#include "support/cli_runner.h"
#include "support/test_support.h"
#include "token/base64url.h"

namespace tl::keys {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kT0 = 1795377600;

#define EXPECT_REASON(expr, slug)                                              \
  do {                                                                         \
    auto r_ = (expr);                                                          \
    ASSERT_FALSE(r_.ok()) << #expr << " succeeded, expected " << (slug);      \
    EXPECT_EQ(r_.error().reason, (slug)) << r_.error().message;                \
  } while (0)

class AccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.path() / "tlaunchd.db";
    auto a = AccessControl::open(db_);
    ASSERT_TRUE(a) << a.error().message;
    ac_ = std::move(*a);
  }

  IssuedToken must_issue(const std::string& name, std::optional<int64_t> expires = {}) {
    auto t = ac_->issue_token(name, expires, kT0);
    EXPECT_TRUE(t) << t.error().message;
    return t ? *t : IssuedToken{};
  }

  // The admin token's row as server/admin_token.cc writes it.
  void insert_admin_row(const std::string& admin_token) {
    auto db = store::Database::open(db_);
    ASSERT_TRUE(db);
    auto st = db->prepare("INSERT INTO api_tokens (token_sha256, name, role, created_at) VALUES (?1, 'admin', 'admin', 1)");
    ASSERT_TRUE(st);
    ASSERT_TRUE(st->bind_blob(1, *crypto::digest(crypto::HashAlg::sha256, as_bytes(admin_token))));
    ASSERT_TRUE(st->step());
  }

  test::TempDir dir_;
  fs::path db_;
  std::unique_ptr<AccessControl> ac_;
};

TEST(OperationNames, RoundTripAndDeleteIsSpelledOut) {
  for (Operation op : kAllOperations) EXPECT_EQ(operation_from_name(operation_name(op)), op);
  EXPECT_EQ(operation_name(Operation::del), "delete");
  EXPECT_EQ(operation_from_name("delete"), Operation::del);
  for (const char* bad : {"", "del", "Get", "all", "release ", "purge\n"}) EXPECT_FALSE(operation_from_name(bad)) << bad;
}

TEST(Identities, TheFourFormsAndNothingElse) {
  const std::string hex(64, 'a');
  for (const std::string& ok : {std::string("admin"), std::string("token:ci"), std::string("token:A.b_c-9"),
                               "cert:sha256:" + hex, std::string("vm:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"),
                               "vm:" + std::string(128, 'v')}) {
    EXPECT_TRUE(check_identity(ok)) << ok;
  }
  for (const std::string& bad :
       {std::string(), std::string("Admin"), std::string("admin "), std::string("token:"), "token:" + std::string(65, 't'),
        std::string("token:a b"), std::string("token:a/b"), "cert:sha256:" + std::string(63, 'a'),
        "cert:sha256:" + std::string(65, 'a'), "cert:sha256:" + std::string(64, 'A'), "cert:sha1:" + hex,
        "cert:" + hex, std::string("vm:"), "vm:" + std::string(129, 'v'), std::string("vm:a b"),
        std::string("vm:a\nb"), std::string("vm:a\0b", 6), std::string("user:x"), std::string("token")}) {
    auto st = check_identity(bad);
    ASSERT_FALSE(st) << bad;
    EXPECT_EQ(st.error().reason, "identity-invalid");
  }
}

// ---- Tokens -----------------------------------------------------------------------

TEST_F(AccessTest, AnIssuedTokenAuthenticatesAsItsNameAndOnlyItsHashIsStored) {
  const IssuedToken t = must_issue("ci", kT0 + 3600);
  EXPECT_EQ(t.info.name, "ci");
  EXPECT_EQ(t.info.created_at, kT0);
  EXPECT_EQ(t.info.expires_at, kT0 + 3600);
  ASSERT_EQ(t.token.size(), 47u);
  EXPECT_EQ(t.token.substr(0, 4), "tlk_");
  auto raw = token::base64url_decode(t.token.substr(4));
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->size(), 32u);
  EXPECT_NE(must_issue("other").token, t.token);

  auto id = ac_->authenticate_token(t.token, kT0);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, "token:ci");

  auto db = store::Database::open(db_);
  auto st = db->prepare("SELECT token_sha256, role, expires_at FROM api_tokens WHERE name = 'ci'");
  ASSERT_TRUE(*st->step());
  EXPECT_EQ(*st->column_blob(0), *crypto::digest(crypto::HashAlg::sha256, as_bytes(t.token)));
  EXPECT_EQ(*st->column_text(1), "user");
  EXPECT_EQ(*st->column_int64(2), kT0 + 3600);
  // The token text is nowhere in the files.
  Bytes files = test::read_file(db_);
  if (fs::exists(db_.string() + "-wal")) {
    const Bytes wal = test::read_file(db_.string() + "-wal");
    files.insert(files.end(), wal.begin(), wal.end());
  }
  EXPECT_EQ(std::search(files.begin(), files.end(), raw->begin(), raw->end()), files.end());
  const std::string body = t.token.substr(4);
  const ByteView text = as_bytes(body);
  EXPECT_EQ(std::search(files.begin(), files.end(), text.begin(), text.end()), files.end());
}

TEST_F(AccessTest, WrongMalformedExpiredAndRevokedTokensAreUnauthorized) {
  const IssuedToken t = must_issue("ci", kT0 + 60);
  std::string flipped = t.token;
  flipped[10] = flipped[10] == 'A' ? 'B' : 'A';
  for (const std::string& bad : {flipped, t.token.substr(0, 46), t.token + "A", t.token.substr(4), std::string(),
                                "TLK_" + t.token.substr(4), std::string(4096, 'x')}) {
    auto r = ac_->authenticate_token(bad, kT0);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().reason, "unauthorized");
    EXPECT_THAT(r.error().message, Not(HasSubstr("expired")));
  }
  EXPECT_TRUE(ac_->authenticate_token(t.token, kT0 + 59));
  auto expired = ac_->authenticate_token(t.token, kT0 + 60);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().reason, "unauthorized");
  EXPECT_THAT(expired.error().message, HasSubstr("expired"));

  ASSERT_TRUE(ac_->revoke_token("ci"));
  auto revoked = ac_->authenticate_token(t.token, kT0);  // at once in this process
  ASSERT_FALSE(revoked);
  EXPECT_EQ(revoked.error().reason, "unauthorized");
  EXPECT_THAT(revoked.error().message, Not(HasSubstr("expired")));
  EXPECT_REASON(ac_->revoke_token("ci"), "token-not-found");
}

TEST_F(AccessTest, TokenNamesAreCheckedAndUnique) {
  for (const std::string& bad : {std::string(), std::string(65, 'n'), std::string("a b"), std::string("a/b"),
                                std::string("token:x"), std::string("caf\xc3\xa9")}) {
    EXPECT_REASON(ac_->issue_token(bad, {}, kT0), "token-invalid");
  }
  must_issue(std::string(64, 'n'));
  must_issue("ci");
  EXPECT_REASON(ac_->issue_token("ci", {}, kT0), "token-exists");
  EXPECT_REASON(ac_->issue_token("later", kT0, kT0), "token-invalid");  // already expired
  auto list = ac_->tokens();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "ci");
  EXPECT_FALSE((*list)[0].expires_at);
}

TEST_F(AccessTest, TheAdminTokenRowIsNeitherListedNorRevokedNorAUserToken) {
  const std::string admin_token = "adminTokenText0123456789abcdefghijklmnopqrs";
  insert_admin_row(admin_token);
  EXPECT_REASON(ac_->issue_token("admin", {}, kT0), "token-invalid");
  must_issue("ci");
  EXPECT_EQ(ac_->tokens()->size(), 1u);
  EXPECT_REASON(ac_->revoke_token("admin"), "token-not-found");
  EXPECT_REASON(ac_->authenticate_token(admin_token, kT0), "unauthorized");
  EXPECT_REASON(ac_->authenticate_token("tlk_" + admin_token, kT0), "unauthorized");
  auto db = store::Database::open(db_);
  auto st = db->prepare("SELECT COUNT(*) FROM api_tokens WHERE role = 'admin'");
  ASSERT_TRUE(*st->step());
  EXPECT_EQ(*st->column_int64(0), 1);
}

// ---- Policies ---------------------------------------------------------------------

TEST_F(AccessTest, PoliciesAreStoredSortedAndReplacedWhole) {
  must_issue("ci");
  auto p = ac_->set_policy("token:ci", "*", {Operation::release, Operation::get, Operation::get}, kT0);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->operations, (std::vector<Operation>{Operation::get, Operation::release}));
  EXPECT_EQ(p->created_at, kT0);
  {
    auto db = store::Database::open(db_);
    auto st = db->prepare("SELECT operations FROM access_policies WHERE identity = 'token:ci'");
    ASSERT_TRUE(*st->step());
    EXPECT_EQ(*st->column_text(0), R"(["get","release"])");
  }
  auto replaced = ac_->set_policy("token:ci", "*", {Operation::del, Operation::audit}, kT0 + 5);
  ASSERT_TRUE(replaced);
  EXPECT_EQ(replaced->operations, (std::vector<Operation>{Operation::del, Operation::audit}));
  EXPECT_EQ(replaced->created_at, kT0);  // the policy's creation, not its last change
  EXPECT_FALSE(ac_->allowed("token:ci", Operation::get, "k"));
  EXPECT_TRUE(ac_->allowed("token:ci", Operation::del, "k"));

  auto all = ac_->policies();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].identity, "token:ci");

  // An empty list removes it.
  ASSERT_TRUE(ac_->set_policy("token:ci", "*", {}, kT0));
  EXPECT_TRUE(ac_->policies()->empty());
  EXPECT_FALSE(ac_->allowed("token:ci", Operation::del, "k"));
  EXPECT_REASON(ac_->remove_policy("token:ci", "*"), "access-policy-not-found");
}

TEST_F(AccessTest, PolicyInputsAreChecked) {
  EXPECT_REASON(ac_->set_policy("admin", "*", {Operation::get}, kT0), "identity-invalid");
  EXPECT_REASON(ac_->set_policy("nobody", "*", {Operation::get}, kT0), "identity-invalid");
  EXPECT_REASON(ac_->set_policy("vm:x", "", {Operation::get}, kT0), "access-policy-invalid");
  EXPECT_REASON(ac_->set_policy("vm:x", "a_b", {Operation::get}, kT0), "access-policy-invalid");
  EXPECT_REASON(ac_->set_policy("vm:x", "**", {Operation::get}, kT0), "access-policy-invalid");
  EXPECT_REASON(ac_->set_policy("token:ghost", "*", {Operation::get}, kT0), "token-not-found");
  // A VM's credential is an attestation token others may have seen: get and release only.
  for (Operation op : {Operation::create, Operation::import, Operation::update, Operation::del, Operation::purge,
                       Operation::rotate, Operation::list, Operation::recover, Operation::audit}) {
    SCOPED_TRACE(std::string(operation_name(op)));
    EXPECT_REASON(ac_->set_policy("vm:x", "*", {Operation::release, op}, kT0), "access-policy-invalid");
  }
  EXPECT_TRUE(ac_->policies()->empty());
  EXPECT_TRUE(ac_->set_policy("vm:x", "*", {Operation::get, Operation::release}, kT0));
}

TEST_F(AccessTest, AllowedFollowsThePoliciesAndNothingElse) {
  must_issue("ci");
  must_issue("reader");
  const std::string cert = "cert:sha256:" + std::string(64, 'c');
  ASSERT_TRUE(ac_->set_policy("token:ci", "*", {Operation::get, Operation::list, Operation::create}, kT0));
  ASSERT_TRUE(ac_->set_policy("token:reader", "app", {Operation::get}, kT0));
  ASSERT_TRUE(ac_->set_policy("vm:vm-1", "app", {Operation::release}, kT0));
  ASSERT_TRUE(ac_->set_policy("vm:vm-1", "db", {Operation::get}, kT0));
  ASSERT_TRUE(ac_->set_policy(cert, "*", {Operation::audit}, kT0));

  struct Grant {
    std::string identity;
    Operation op;
    std::string key;  // "" = any key
  };
  const std::vector<Grant> grants = {
      {"token:ci", Operation::get, ""},     {"token:ci", Operation::list, ""}, {"token:ci", Operation::create, ""},
      {"token:reader", Operation::get, "app"}, {"vm:vm-1", Operation::release, "app"}, {"vm:vm-1", Operation::get, "db"},
      {cert, Operation::audit, ""},
  };
  const std::vector<std::string> identities = {"token:ci", "token:reader", "token:none", "vm:vm-1", "vm:vm-2",
                                               cert,       "cert:sha256:" + std::string(64, 'd')};
  for (const auto& identity : identities) {
    for (Operation op : kAllOperations) {
      for (const std::string key : {"app", "db", "other", ""}) {
        bool expect = false;
        for (const auto& g : grants) {
          expect = expect || (g.identity == identity && g.op == op && (g.key.empty() || g.key == key));
        }
        EXPECT_EQ(ac_->allowed(identity, op, key), expect)
            << identity << " " << operation_name(op) << " on '" << key << "'";
      }
    }
  }
  for (Operation op : kAllOperations) EXPECT_TRUE(ac_->allowed("admin", op, "anything"));
}

TEST_F(AccessTest, RevokingATokenRemovesItsPolicies) {
  must_issue("ci");
  ASSERT_TRUE(ac_->set_policy("token:ci", "*", {Operation::get}, kT0));
  ASSERT_TRUE(ac_->set_policy("token:ci", "app", {Operation::release}, kT0));
  ASSERT_TRUE(ac_->set_policy("vm:v", "*", {Operation::get}, kT0));
  ASSERT_TRUE(ac_->revoke_token("ci"));
  EXPECT_FALSE(ac_->allowed("token:ci", Operation::get, "app"));
  auto left = ac_->policies();
  ASSERT_TRUE(left);
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].identity, "vm:v");
  // A new token of the same name starts with nothing.
  must_issue("ci");
  EXPECT_FALSE(ac_->allowed("token:ci", Operation::get, "app"));
}

TEST_F(AccessTest, APolicyRowOfAVanishedTokenGrantsNothing) {
  must_issue("ci");
  ASSERT_TRUE(ac_->set_policy("token:ci", "*", {Operation::get}, kT0));
  {
    // A token row removed by hand, its policy left behind.
    auto db = store::Database::open(db_);
    ASSERT_TRUE(db->exec("DELETE FROM api_tokens WHERE name = 'ci'"));
  }
  auto fresh = AccessControl::open(db_);
  ASSERT_TRUE(fresh);
  EXPECT_FALSE((*fresh)->allowed("token:ci", Operation::get, "k"));
}

TEST_F(AccessTest, AnUnreadablePolicyRowIsAnErrorNeverAGuess) {
  const IssuedToken t = must_issue("ci");
  ASSERT_TRUE(ac_->set_policy("token:ci", "*", {Operation::get}, kT0));
  for (const std::string& bad : {std::string("[\"get\",\"steal\"]"), std::string("{}"), std::string("[1]"),
                                 std::string("not json")}) {
    auto db = store::Database::open(db_);
    auto st = db->prepare("UPDATE access_policies SET operations = ?1");
    ASSERT_TRUE(st->bind_text(1, bad));
    ASSERT_TRUE(st->step());
    auto fresh = AccessControl::open(db_);
    ASSERT_FALSE(fresh) << bad;  // the first load fails: nothing to decide from
    EXPECT_EQ(fresh.error().reason, "internal-error") << fresh.error().message;
    EXPECT_REASON(ac_->policies(), "internal-error");
    ASSERT_TRUE(db->exec("UPDATE access_policies SET operations = '[\"get\"]'"));
  }
  ASSERT_TRUE(ac_->remove_policy("token:ci", "*"));
  EXPECT_TRUE(ac_->authenticate_token(t.token, kT0));
}

TEST_F(AccessTest, AStaleCopyThatCannotBeReloadedDecidesNothing) {
  const IssuedToken t = must_issue("ci");
  ASSERT_TRUE(ac_->set_policy("token:ci", "*", {Operation::get}, kT0));
  auto quick = AccessControl::open(db_, std::chrono::milliseconds(0));
  ASSERT_TRUE(quick);
  ASSERT_TRUE((*quick)->allowed("token:ci", Operation::get, "k"));
  {
    auto db = store::Database::open(db_);
    ASSERT_TRUE(db->exec("UPDATE access_policies SET operations = 'garbage'"));
  }
  EXPECT_FALSE((*quick)->allowed("token:ci", Operation::get, "k"));
  EXPECT_REASON((*quick)->authenticate_token(t.token, kT0), "internal-error");
  EXPECT_TRUE((*quick)->allowed("admin", Operation::purge, "k"));
}

// ---- Another process's changes ----------------------------------------------------

TEST_F(AccessTest, ASecondInstanceSeesARevokeAndAPolicyWithinItsReloadWindow) {
  constexpr auto kWindow = std::chrono::milliseconds(200);
  const IssuedToken t = must_issue("ci");
  auto other = AccessControl::open(db_, kWindow);
  ASSERT_TRUE(other) << other.error().message;
  ASSERT_TRUE((*other)->authenticate_token(t.token, kT0));
  EXPECT_FALSE((*other)->allowed("token:ci", Operation::get, "k"));

  ASSERT_TRUE(ac_->set_policy("token:ci", "*", {Operation::get}, kT0));
  std::this_thread::sleep_for(kWindow + std::chrono::milliseconds(50));
  EXPECT_TRUE((*other)->allowed("token:ci", Operation::get, "k"));

  ASSERT_TRUE(ac_->revoke_token("ci"));
  std::this_thread::sleep_for(kWindow + std::chrono::milliseconds(50));
  EXPECT_REASON((*other)->authenticate_token(t.token, kT0), "unauthorized");
  EXPECT_FALSE((*other)->allowed("token:ci", Operation::get, "k"));

  // A token issued through the second instance works there at once.
  auto t2 = (*other)->issue_token("ci2", {}, kT0);
  ASSERT_TRUE(t2);
  EXPECT_TRUE((*other)->authenticate_token(t2->token, kT0));
}

}  // namespace
}  // namespace tl::keys
