// tlaunchd's fleet settings and its admin token, on real files and a real
// SQLite database.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "server/admin_token.h"
#include "server/config.h"
#include "server/repository.h"
#include "support/cli_runner.h"

namespace tl::server {
namespace {

namespace fs = std::filesystem;

TEST(FleetConfig, DefaultsAreAnEightHourWindowAndATokenFileBesideTheDatabase) {
  Config c;
  c.database = "/var/lib/tlaunchd/t.db";
  EXPECT_EQ(c.refresh_window_seconds, 8 * 3600);
  EXPECT_EQ(c.sweep_interval_seconds, 60);
  EXPECT_EQ(c.effective_admin_token_file(), "/var/lib/tlaunchd/t.db.admin-token");
  EXPECT_TRUE(c.webhooks.empty());
  EXPECT_EQ(c.webhook_max_attempts, 20);
}

TEST(FleetConfig, JsonSectionSetsEverything) {
  auto c = parse_config_json(R"({"fleet": {"refreshWindowSeconds": 600, "sweepIntervalSeconds": 5,
      "adminTokenFile": "/run/t", "webhookMaxAttempts": 3, "webhookCaFile": "ca.pem",
      "webhooks": [{"url": "https://hooks.example/a", "secretFile": "/etc/s"}, {"url": "http://127.0.0.1:9/b"}]}})");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->refresh_window_seconds, 600);
  EXPECT_EQ(c->sweep_interval_seconds, 5);
  EXPECT_EQ(c->effective_admin_token_file(), "/run/t");
  EXPECT_EQ(c->webhook_max_attempts, 3);
  EXPECT_EQ(c->webhook_ca_file, "ca.pem");
  ASSERT_EQ(c->webhooks.size(), 2u);
  EXPECT_EQ(c->webhooks[0].secret_file, "/etc/s");
  EXPECT_FALSE(c->webhooks[1].secret_file);
  EXPECT_TRUE(validate(*c).ok());
}

TEST(FleetConfig, BadValuesNameTheirPath) {
  auto unknown = parse_config_json(R"({"fleet": {"refreshWindow": 5}})");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("fleet.refreshWindow"), std::string::npos) << unknown.error().message;
  auto zero = parse_config_json(R"({"fleet": {"refreshWindowSeconds": 0}})");
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.error().message.find("fleet.refreshWindowSeconds"), std::string::npos);
  auto hook = parse_config_json(R"({"fleet": {"webhooks": [{"url": "x", "secret": "inline"}]}})");
  ASSERT_FALSE(hook.ok());
  EXPECT_NE(hook.error().message.find("fleet.webhooks[0].secret"), std::string::npos) << hook.error().message;
  auto no_url = parse_config_json(R"({"fleet": {"webhooks": [{}]}})");
  ASSERT_FALSE(no_url.ok());
  EXPECT_NE(no_url.error().message.find("fleet.webhooks[0].url"), std::string::npos) << no_url.error().message;
  auto scheme = parse_config_json(R"({"fleet": {"webhooks": [{"url": "ftp://h/x"}]}})");
  ASSERT_TRUE(scheme.ok());
  auto st = validate(*scheme);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("ftp://h/x"), std::string::npos);
}

TEST(FleetConfig, FlagsOverrideAndReplaceTheWebhookList) {
  auto base = parse_config_json(R"({"fleet": {"webhooks": [{"url": "https://a/x"}]}})");
  ASSERT_TRUE(base.ok());
  auto c = config_from_args({"--refresh-window", "30", "--sweep-interval", "2", "--admin-token-file", "/t",
                             "--webhook", "http://127.0.0.1:1/h", "--webhook", "http://127.0.0.1:2/h",
                             "--webhook-ca", "ca.pem"},
                            *base);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->refresh_window_seconds, 30);
  EXPECT_EQ(c->sweep_interval_seconds, 2);
  EXPECT_EQ(c->effective_admin_token_file(), "/t");
  ASSERT_EQ(c->webhooks.size(), 2u);
  EXPECT_EQ(c->webhooks[0].url, "http://127.0.0.1:1/h");
  EXPECT_EQ(c->webhook_ca_file, "ca.pem");
  EXPECT_FALSE(config_from_args({"--refresh-window", "0"}).ok());
  EXPECT_FALSE(config_from_args({"--sweep-interval", "x"}).ok());
}

class AdminTokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = Repository::open(dir_.path() / "t.db", 2);
    ASSERT_TRUE(r.ok()) << r.error().message;
    repo_ = std::move(*r);
  }
  std::string read_token() {
    std::ifstream in(file_);
    std::string t;
    std::getline(in, t);
    return t;
  }
  http::Request with_auth(const std::string& value) {
    http::Request req;
    req.headers["Authorization"] = value;
    return req;
  }
  test::TempDir dir_;
  fs::path file_ = dir_.path() / "admin-token";
  std::unique_ptr<Repository> repo_;
};

TEST_F(AdminTokenTest, MadeOnceIntoAPrivateFileAndOnlyItsHashIsStored) {
  auto made = ensure_admin_token(*repo_, file_.string(), 100);
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_TRUE(*made);
  EXPECT_EQ(fs::status(file_).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  const std::string token = read_token();
  EXPECT_EQ(token.size(), 43u);  // 32 bytes, base64url without padding
  // A second start keeps it.
  auto again = ensure_admin_token(*repo_, file_.string(), 200);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  EXPECT_EQ(read_token(), token);
  // The database file does not contain the token itself.
  std::ifstream db(dir_.path() / "t.db", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(db)), {});
  EXPECT_EQ(bytes.find(token), std::string::npos);
  EXPECT_TRUE(check_admin(*repo_, with_auth("Bearer " + token)).ok());
}

TEST_F(AdminTokenTest, MissingMalformedAndWrongTokensAreUnauthorized) {
  ASSERT_TRUE(ensure_admin_token(*repo_, file_.string(), 100).ok());
  const std::string token = read_token();
  http::Request none;
  for (const auto& req : {none, with_auth(token), with_auth("Basic " + token), with_auth("Bearer "),
                          with_auth("Bearer " + token + "x"), with_auth("Bearer " + std::string(600, 'a'))}) {
    auto st = check_admin(*repo_, req);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().reason, "unauthorized");
  }
}

TEST_F(AdminTokenTest, ResetReplacesTheTokenAtOnce) {
  ASSERT_TRUE(ensure_admin_token(*repo_, file_.string(), 100).ok());
  const std::string old_token = read_token();
  ASSERT_TRUE(reset_admin_token(*repo_, file_.string(), 200).ok());
  const std::string new_token = read_token();
  EXPECT_NE(new_token, old_token);
  EXPECT_FALSE(check_admin(*repo_, with_auth("Bearer " + old_token)).ok());
  EXPECT_TRUE(check_admin(*repo_, with_auth("Bearer " + new_token)).ok());
}

TEST_F(AdminTokenTest, AnUnwritableFileStoresNoToken) {
  auto made = ensure_admin_token(*repo_, (dir_.path() / "no/such/dir/token").string(), 100);
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.error().message.find("no/such/dir"), std::string::npos) << made.error().message;
  auto has = repo_->has_api_token(kAdminRole);
  ASSERT_TRUE(has.ok());
  EXPECT_FALSE(*has);  // the next start tries again instead of locking the operator out
}

}  // namespace
}  // namespace tl::server
