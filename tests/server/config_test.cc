#include <gtest/gtest.h>

#include <fstream>

#include "server/config.h"
#include "support/cli_runner.h"

namespace tl::server {
namespace {

TEST(Config, DefaultsAreSafe) {
  Config c;
  EXPECT_EQ(c.listen_address, "127.0.0.1");
  EXPECT_EQ(c.token_lifetime_seconds, 8 * 3600);
  EXPECT_EQ(c.signing_alg, crypto::JwsAlg::es256);
  EXPECT_FALSE(c.allow_ek_without_certificate);
  EXPECT_FALSE(c.allow_sha1);
  EXPECT_TRUE(c.require_runtime_key);
  EXPECT_EQ(c.effective_issuer(), "http://127.0.0.1:8443");
  EXPECT_TRUE(validate(c).ok());
}

TEST(Config, JsonFileSetsEverySection) {
  auto c = parse_config_json(R"({
    "listen": {"address": "0.0.0.0", "port": 9000, "threads": 3},
    "tls": {"certificate": "c.pem", "privateKey": "k.pem"},
    "database": "/var/lib/x.db",
    "token": {"lifetimeSeconds": 3600, "signingAlg": "PS256"},
    "challenge": {"lifetimeSeconds": 60},
    "enrollment": {"ekCaBundles": ["a.pem", "b.pem"], "allowEkWithoutCertificate": true},
    "appraisal": {"allowSha1": true, "requiredPcrs": [0, 7], "requireRuntimeKey": false},
    "log": {"level": "warn"}})");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->listen_address, "0.0.0.0");
  EXPECT_EQ(c->port, 9000);
  EXPECT_EQ(c->threads, 3u);
  EXPECT_EQ(c->effective_issuer(), "https://0.0.0.0:9000");
  EXPECT_EQ(c->database, "/var/lib/x.db");
  EXPECT_EQ(c->token_lifetime_seconds, 3600);
  EXPECT_EQ(c->signing_alg, crypto::JwsAlg::ps256);
  EXPECT_EQ(c->challenge_lifetime_seconds, 60);
  EXPECT_EQ(c->ek_ca_bundles, (std::vector<std::string>{"a.pem", "b.pem"}));
  EXPECT_TRUE(c->allow_ek_without_certificate);
  EXPECT_TRUE(c->allow_sha1);
  EXPECT_EQ(c->required_pcrs, (std::vector<uint32_t>{0, 7}));
  EXPECT_FALSE(c->require_runtime_key);
  EXPECT_EQ(c->log_level, LogLevel::warn);
}

TEST(Config, ErrorsNameThePath) {
  struct Case {
    const char* json;
    const char* expect;
  } cases[] = {
      {R"({"listen": {"prot": 1}})", "config listen.prot: unknown key"},
      {R"({"Listen": {}})", "config Listen: unknown key"},
      {R"({"listen": {"port": 70000}})", "config listen.port: 70000 outside 0..65535"},
      {R"({"listen": {"port": "80"}})", "config listen.port: must be a whole number"},
      {R"({"token": {"signingAlg": "HS256"}})", "config token.signingAlg: must be"},
      {R"({"token": {"lifetimeSeconds": 1}})", "config token.lifetimeSeconds: 1 outside"},
      {R"({"enrollment": {"ekCaBundles": ["a", 3]}})", "config enrollment.ekCaBundles[1]: must be a string"},
      {R"({"appraisal": {"requiredPcrs": [24]}})", "config appraisal.requiredPcrs[0]: must be a PCR index 0..23"},
      {R"({"appraisal": {"requiredPcrs": []}})", "config appraisal.requiredPcrs: must be a non-empty array"},
      {R"({"log": {"level": "verbose"}})", "config log.level: must be debug"},
      {R"([1])", "config (top level): must be an object"},
      {R"({"database": 5})", "config database: must be a string"},
      {R"({)", "config: not valid JSON"},
  };
  for (const auto& k : cases) {
    auto c = parse_config_json(k.json);
    ASSERT_FALSE(c.ok()) << k.json;
    EXPECT_NE(c.error().message.find(k.expect), std::string::npos) << k.json << " → " << c.error().message;
  }
}

TEST(Config, FlagsOverrideTheFileWhateverTheirOrder) {
  test::TempDir dir;
  const std::string cfg = R"({"listen": {"port": 9000}, "database": "file.db", "enrollment": {"ekCaBundles": ["f.pem"]}})";
  auto path = dir.file("c.json", ByteView(reinterpret_cast<const uint8_t*>(cfg.data()), cfg.size()));
  auto c = config_from_args({"--port", "9100", "--config", path.string(), "--ek-ca", "x.pem", "--ek-ca=y.pem",
                             "--allow-sha1", "--listen", "10.0.0.1:9200"});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->database, "file.db");               // from the file
  EXPECT_EQ(c->port, 9200);                         // the last flag wins
  EXPECT_EQ(c->listen_address, "10.0.0.1");
  EXPECT_EQ(c->ek_ca_bundles, (std::vector<std::string>{"x.pem", "y.pem"}));  // flags replace the list
  EXPECT_TRUE(c->allow_sha1);
}

TEST(Config, ListenTakesIpv6InBrackets) {
  auto c = config_from_args({"--listen", "[::1]:9443"});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->listen_address, "::1");
  EXPECT_EQ(c->port, 9443);
  EXPECT_EQ(c->effective_issuer(), "http://[::1]:9443");
  auto bare = config_from_args({"--listen", "::1"});
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->listen_address, "::1");
  EXPECT_EQ(bare->port, 8443);
  EXPECT_FALSE(config_from_args({"--listen", "[::1"}).ok());
  EXPECT_FALSE(config_from_args({"--listen", "[::1]9443"}).ok());
}

TEST(Config, BadFlagsAreErrors) {
  EXPECT_NE(config_from_args({"--nope"}).error().message.find("unknown option --nope"), std::string::npos);
  EXPECT_NE(config_from_args({"--port"}).error().message.find("needs a value"), std::string::npos);
  EXPECT_NE(config_from_args({"--port", "x1"}).error().message.find("not a whole number"), std::string::npos);
  EXPECT_NE(config_from_args({"--allow-sha1=yes"}).error().message.find("takes no value"), std::string::npos);
  EXPECT_NE(config_from_args({"--signing-alg", "none"}).error().message.find("not ES256"), std::string::npos);
  EXPECT_NE(config_from_args({"--config", "/nonexistent/c.json"}).error().message.find("cannot open"),
            std::string::npos);
  EXPECT_NE(config_from_args({"stray"}).error().message.find("unexpected argument 'stray'"), std::string::npos);
}

TEST(Config, ValidateRefusesHalfTlsAndBadIssuer) {
  Config c;
  c.tls_certificate = "c.pem";
  EXPECT_FALSE(validate(c).ok());
  c.tls_private_key = "k.pem";
  EXPECT_TRUE(validate(c).ok());
  c.issuer = "ftp://x";
  EXPECT_FALSE(validate(c).ok());
  c.issuer = "https://x/";
  EXPECT_FALSE(validate(c).ok());
  c.issuer = "https://attest.example";
  EXPECT_TRUE(validate(c).ok());
}

TEST(Config, KeyVaultSectionAndFlags) {
  auto c = parse_config_json(R"({
    "tls": {"certificate": "c.pem", "privateKey": "k.pem", "clientCa": "clients.pem"},
    "keyVault": {"retentionDays": 30,
                 "pkcs11": {"module": "/usr/lib/softhsm/libsofthsm2.so", "tokenLabel": "tl", "pinFile": "/run/pin"},
                 "authorities": [{"issuer": "https://sharedeus.eus.attest.azure.net"},
                                 {"issuer": "https://attest.example", "jwksFile": "/etc/tl/jwks.json"}]}})");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->key_retention_days, 30);
  ASSERT_TRUE(c->pkcs11.has_value());
  EXPECT_EQ(c->pkcs11->token_label, "tl");
  EXPECT_EQ(c->pkcs11->key_label, "tlaunchd-kek");
  ASSERT_EQ(c->trusted_authorities.size(), 2u);
  EXPECT_EQ(c->trusted_authorities[1].jwks_file, "/etc/tl/jwks.json");
  EXPECT_EQ(c->client_ca_file, "clients.pem");
  EXPECT_TRUE(validate(*c).ok());
  // Defaults: the KEK file sits next to the database.
  Config d;
  d.database = "/var/lib/tlaunchd/t.db";
  EXPECT_EQ(d.effective_kek_file(), "/var/lib/tlaunchd/t.db.kek");
  EXPECT_TRUE(d.trusted_authorities.empty());
  // Flags replace the file's authorities.
  auto f = config_from_args({"--trust-issuer", "https://a.example", "--kek-file", "/k", "--key-retention-days", "7"});
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->trusted_authorities.size(), 1u);
  EXPECT_EQ(f->effective_kek_file(), "/k");
  EXPECT_EQ(f->key_retention_days, 7);
}

TEST(Config, KeyVaultMistakesAreRefused) {
  EXPECT_NE(parse_config_json(R"({"keyVault": {"retentionDays": 3}})").error().message.find("keyVault.retentionDays"),
            std::string::npos);
  EXPECT_NE(parse_config_json(R"({"keyVault": {"pkcs11": {"module": "m"}}})").error().message.find("keyVault.pkcs11.tokenLabel"),
            std::string::npos);
  EXPECT_NE(parse_config_json(R"({"keyVault": {"authorities": [{"jwksUri": "https://x"}]}})").error().message.find("issuer"),
            std::string::npos);
  Config both;
  both.kek_file = "/k";
  both.pkcs11 = Config::Pkcs11{"m", "t", "p"};
  EXPECT_FALSE(validate(both).ok());
  Config client_ca_without_tls;
  client_ca_without_tls.client_ca_file = "c.pem";
  EXPECT_FALSE(validate(client_ca_without_tls).ok());
  Config own;
  own.trusted_authorities.push_back({own.effective_issuer(), {}, {}, {}});
  EXPECT_NE(validate(own).error().message.find("own issuer"), std::string::npos);
  EXPECT_FALSE(config_from_args({"--key-retention-days", "365"}).ok());
}

TEST(Config, CvmSectionAndFlag) {
  Config d;
  EXPECT_FALSE(d.tdx_collateral_dir.has_value());
  EXPECT_EQ(d.tdx_compliant_tcb, std::vector<std::string>{"UpToDate"});
  auto c = parse_config_json(
      R"({"cvm": {"tdxCollateralDir": "/etc/tlaunchd/tdx", "tdxCompliantTcbStatuses": ["UpToDate", "SWHardeningNeeded"]}})");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->tdx_collateral_dir, "/etc/tlaunchd/tdx");
  EXPECT_EQ(c->tdx_compliant_tcb, (std::vector<std::string>{"UpToDate", "SWHardeningNeeded"}));
  EXPECT_TRUE(validate(*c).ok());
  auto f = config_from_args({"--tdx-collateral", "/srv/pcs"}, *c);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->tdx_collateral_dir, "/srv/pcs");

  auto unknown = parse_config_json(R"({"cvm": {"verificationTime": 5}})");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("verificationTime"), std::string::npos) << unknown.error().message;
  auto wrong = parse_config_json(R"({"cvm": {"tdxCompliantTcbStatuses": "UpToDate"}})");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("cvm.tdxCompliantTcbStatuses"), std::string::npos) << wrong.error().message;
  for (const char* status : {"Revoked", "uptodate"}) {
    auto r = parse_config_json(std::string(R"({"cvm": {"tdxCompliantTcbStatuses": [")") + status + "\"]}}");
    ASSERT_TRUE(r.ok()) << r.error().message;
    auto st = validate(*r);
    ASSERT_FALSE(st.ok()) << status;
    EXPECT_NE(st.error().message.find(status), std::string::npos) << st.error().message;
  }
}

}  // namespace
}  // namespace tl::server
