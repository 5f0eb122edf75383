// Issue 5 end to end, all real: tlaunchd's key vault over HTTP, vTPMs (swtpm
// provisioned by a local vTPM CA, the recorded Secure Boot boot — or a copy
// with Secure Boot off — replayed into their PCRs), the real tlaunch-agent
// binary releasing keys into its TPM, tokens from a second, configured
// authority (keys from a JWKS file) unwrapped by an independent client
// (python3-cryptography), the vault's store read back from disk, and a
// SoftHSM2 token holding the KEK.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "agent/client/attestation_client.h"
#include "crypto/digest.h"
#include "crypto/key_material.h"
#include "crypto/private_key.h"
#include "eventlog/parsed_log.h"
#include "fixture.h"
#include "http/http.h"
#include "keys/kek/kek.h"
#include "keys/vault.h"
#include "support/cli_runner.h"
#include "support/test_support.h"
#include "token/base64url.h"
#include "token/jwk.h"
#include "token/jwt.h"

namespace tl::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kExtIssuer = "https://attest.example.test";
constexpr const char* kGoodVm = "5e1ea5e0-0000-4000-8000-0000000000a1";
constexpr const char* kOtherVm = "5e1ea5e0-0000-4000-8000-0000000000b2";
constexpr const char* kSbOffVm = "5e1ea5e0-0000-4000-8000-0000000000c3";
constexpr const char* kThirdVm = "5e1ea5e0-0000-4000-8000-0000000000d4";

Bytes read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}
void write_text(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }
std::string b64(const std::string& s) {
  return token::base64url_encode(ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}
bool contains(ByteView hay, ByteView needle) {
  return !needle.empty() && std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

// The recorded boot with the SecureBoot variable (event 4, PCR 7) measured as 0.
fs::path secure_boot_off_log(const fs::path& dir) {
  Bytes log = read_bytes(boot_log_path());
  auto parsed = eventlog::ParsedLog::parse(log);
  EXPECT_TRUE(parsed.ok());
  const auto& e = parsed->events().at(4);
  const uint8_t* base = parsed->bytes().data();
  const size_t digest_at = static_cast<size_t>(e.digest(crypto::HashAlg::sha256).data() - base);
  const size_t data_at = static_cast<size_t>(e.data.data() - base), size = e.data.size();
  EXPECT_EQ(log[data_at + size - 1], 1);
  log[data_at + size - 1] = 0;
  auto h = crypto::digest(crypto::HashAlg::sha256, ByteView(log.data() + data_at, size));
  EXPECT_TRUE(h.ok());
  std::copy(h->begin(), h->end(), log.begin() + static_cast<std::ptrdiff_t>(digest_at));
  const fs::path out = dir / "secure-boot-off.bin";
  std::ofstream(out, std::ios::binary).write(reinterpret_cast<const char*>(log.data()), static_cast<std::streamsize>(log.size()));
  return out;
}

class KeyReleaseE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = std::make_unique<TempDir>();
    const fs::path r = root_->path();
    auto ca = VtpmCa::create(r / "vtpm-ca");
    if (!ca) return fail("vTPM CA: " + ca.error().message);
    ca_ = std::move(*ca);
    write_text(r / "os-release", "NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n");
    write_text(r / "taint", "0\n");
    write_text(r / "kmsg", "[    0.000000] Linux version 6.1.0-27-amd64\n");

    // A second attestation authority the admin trusts, its keys in a JWKS file.
    auto a = token::SigningKey::generate(crypto::JwsAlg::es256);
    auto b = token::SigningKey::generate(crypto::JwsAlg::es256);
    auto rt = crypto::PrivateKey::generate(crypto::JwsAlg::rs256);
    if (!a || !b || !rt) return fail("test keys");
    ext_a_ = std::make_unique<token::SigningKey>(std::move(*a));
    ext_b_ = std::make_unique<token::SigningKey>(std::move(*b));
    runtime_ = std::make_unique<crypto::PrivateKey>(std::move(*rt));
    token::Jwks ext;
    (void)ext.add(ext_a_->public_jwk());
    (void)ext.add(ext_b_->public_jwk());
    write_text(r / "ext-jwks.json", ext.to_json().dump());
    auto pem = runtime_->to_pkcs8_pem();
    if (!pem) return fail("runtime key pem");
    write_text(r / "runtime-key.pem", std::string(pem->reveal()));
    write_text(r / "tlaunchd.json",
               json{{"keyVault", {{"authorities", {{{"issuer", kExtIssuer}, {"jwksFile", (r / "ext-jwks.json").string()}}}}}}}
                   .dump());

    auto svc = Tlaunchd::start(r / "svc", {"--ek-ca", ca_->root_pem().string(), "--ek-ca", ca_->issuer_pem().string(),
                                           "--config", (r / "tlaunchd.json").string()});
    if (!svc) return fail("tlaunchd: " + svc.error().message);
    svc_ = std::move(*svc);
    std::ifstream in(r / "svc/tlaunchd.db.admin-token");
    std::getline(in, admin_);

    for (const char* vm : {kGoodVm, kOtherVm, kSbOffVm, kThirdVm})
      api("PUT", "/vault/access-policies",
          json{{"identity", std::string("vm:") + vm}, {"scope", "*"}, {"operations", {"get", "release"}}});
  }
  static void TearDownTestSuite() {
    svc_.reset();
    ca_.reset();
    root_.reset();
  }
  void SetUp() override {
    if (setup_error_) GTEST_FAIL() << *setup_error_;
  }
  static void fail(const std::string& m) {
    if (!setup_error_) setup_error_ = m;
  }

  static http::Response call(const std::string& bearer, const std::string& method, const std::string& path,
                             const json& body = nullptr) {
    auto c = http::Client::create(svc_->base_url());
    EXPECT_TRUE(c.ok());
    http::Headers h;
    if (!bearer.empty()) h["Authorization"] = "Bearer " + bearer;
    std::string text;
    if (!body.is_null()) {
      h["Content-Type"] = "application/json";
      text = body.dump();
    }
    auto resp = (*c)->request(method, path, text, h);
    EXPECT_TRUE(resp.ok()) << resp.error().message;
    return resp.ok() ? *resp : http::Response{};
  }
  static json api(const std::string& method, const std::string& path, const json& body = nullptr, int expect = 200) {
    auto resp = call(admin_, method, path, body);
    EXPECT_EQ(resp.status, expect) << method << " " << path << ": " << resp.body;
    return resp.body.empty() ? json{} : json::parse(resp.body, nullptr, false);
  }

  // Releases to a VM whose claims say Secure Boot ran with Microsoft's keys
  // (tlaunchd's tokens), or to a compliant SEV-SNP CVM (the second authority).
  static json policy(const std::string& own_issuer) {
    return {{"version", "1.0.0"},
            {"anyOf",
             {{{"authority", own_issuer},
               {"allOf", {{{"claim", "secureboot"}, {"equals", true}},
                          {{"claim", "x-ms-azurevm-dbvalidated"}, {"equals", true}}}}},
              {{"authority", kExtIssuer},
               {"allOf", {{{"claim", "x-ms-isolation-tee.x-ms-attestation-type"}, {"equals", "sevsnpvm"}},
                          {{"claim", "x-ms-isolation-tee.x-ms-compliance-status"}, {"equals", "azure-compliant-cvm"}}}}}}}};
  }
  static json exportable(json body, bool immutable = false) {
    body["attributes"] = {{"exportable", true}};
    body["release_policy"] = {{"data", b64(policy(svc_->base_url()).dump())}, {"immutable", immutable}};
    return body;
  }

  // A token of the second authority for a compliant SEV-SNP CVM whose runtime key is runtime_.
  static json ext_claims(int64_t exp_offset = 3600) {
    const int64_t now = std::time(nullptr);
    auto p = crypto::rsa_public_params(runtime_->public_key());
    EXPECT_TRUE(p.ok());
    return {{"iss", kExtIssuer},
            {"iat", now - 10},
            {"nbf", now - 10},
            {"exp", now + exp_offset},
            {"jti", "ext-" + std::to_string(++jti_)},
            {"x-ms-isolation-tee", {{"x-ms-attestation-type", "sevsnpvm"}, {"x-ms-compliance-status", "azure-compliant-cvm"}}},
            {"x-ms-runtime",
             {{"keys", {{{"kid", "ext-runtime"}, {"kty", "RSA"}, {"key_ops", {"encrypt"}},
                         {"n", token::base64url_encode(p->n)}, {"e", token::base64url_encode(p->e)}}}}}}};
  }
  static std::string ext_token(const json& claims, const token::SigningKey& key) {
    auto t = token::sign_jwt(key, claims);
    EXPECT_TRUE(t.ok());
    return t.ok() ? *t : std::string();
  }

  static std::unique_ptr<Swtpm> vm_tpm(const std::string& name, const fs::path& log) {
    auto t = start_vm_tpm(*ca_, root_->path() / name, log);
    EXPECT_TRUE(t.ok()) << t.error().message;
    return t.ok() ? std::move(*t) : nullptr;
  }
  static std::string agent_flags(const Swtpm& tpm, const std::string& vm_id, const fs::path& log) {
    const fs::path r = root_->path();
    return " --endpoint " + svc_->base_url() + " --tcti " + shell_quote(tpm.tcti()) + " --vm-id " + vm_id +
           " --eventlog " + shell_quote(log.string()) + " --os-release " + shell_quote((r / "os-release").string()) +
           " --state-dir " + shell_quote((r / ("state-" + vm_id)).string()) + " --kernel-log " +
           shell_quote((r / "kmsg").string()) + " --taint-file " + shell_quote((r / "taint").string()) +
           " --ima-log " + shell_quote((r / "no-ima").string());
  }
  // The real agent binary: tlaunch-agent release.
  static TlaunchRun agent_release(const Swtpm& tpm, const std::string& vm_id, const fs::path& log,
                                  const std::string& key, const std::string& extra) {
    const std::string cmd = "TSS2_LOG=all+NONE " + shell_quote((build_dir() / "tlaunch-agent").string()) +
                            " release --key " + shell_quote(key) + agent_flags(tpm, vm_id, log) + " " + extra;
    const fs::path out = root_->path() / "agent.out", err = root_->path() / "agent.err";
    const int rc = std::system((cmd + " >" + shell_quote(out.string()) + " 2>" + shell_quote(err.string())).c_str());
    TlaunchRun run;
    run.exit_code = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    auto o = read_bytes(out), e = read_bytes(err);
    run.out.assign(o.begin(), o.end());
    run.err.assign(e.begin(), e.end());
    return run;
  }
  // An attestation token for a VM, made by the agent library.
  static std::string attest(const Swtpm& tpm, const std::string& vm_id, const fs::path& log) {
    agent::AgentOptions o;
    o.endpoint = svc_->base_url();
    o.tcti = tpm.tcti();
    o.vm_id = vm_id;
    o.eventlog = log;
    o.os_release = root_->path() / "os-release";
    o.state_dir = root_->path() / ("state-lib-" + vm_id);
    o.kernel_modules.kernel_log = root_->path() / "kmsg";
    o.kernel_modules.taint = root_->path() / "taint";
    o.kernel_modules.ima_log = root_->path() / "no-ima";
    auto c = agent::AttestationClient::create(o);
    EXPECT_TRUE(c.ok()) << c.error().message;
    if (!c) return {};
    auto t = (*c)->attest();
    EXPECT_TRUE(t.ok()) << t.error().message;
    return t.ok() ? t->token : std::string();
  }

  // The material tlaunchd holds for a key version, read from its database
  // with its KEK file: what a release must deliver, byte for byte.
  static Bytes vault_material(const std::string& name, const std::string& version) {
    const fs::path db = root_->path() / "svc/tlaunchd.db";
    auto kek = keys::kek::open_file_kek(db.string() + ".kek", false);
    EXPECT_TRUE(kek.ok()) << kek.error().message;
    if (!kek) return {};
    auto vault = keys::Vault::open(db, **kek);
    EXPECT_TRUE(vault.ok()) << vault.error().message;
    if (!vault) return {};
    auto m = (*vault)->material(name, version, std::time(nullptr));
    EXPECT_TRUE(m.ok()) << m.error().message;
    if (!m) return {};
    ByteView v = m->release_bytes().view();
    return Bytes(v.begin(), v.end());
  }
  static std::string version_of(const json& bundle) {
    const std::string kid = bundle["key"]["kid"].get<std::string>();
    return kid.substr(kid.rfind('/') + 1);
  }
  // Unwraps a release answer with python3-cryptography (independent of our code).
  static json unwrap_independently(const std::string& jws, const std::string& base_url = {}) {
    const fs::path f = root_->path() / "release.jws";
    write_text(f, jws);
    auto out = sh("/usr/bin/python3 " + shell_quote((fs::path(__FILE__).parent_path() / "unwrap_release.py").string()) +
                  " " + (base_url.empty() ? svc_->base_url() : base_url) + " " + shell_quote(f.string()) + " " +
                  shell_quote((root_->path() / "runtime-key.pem").string()));
    EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().message);
    return out.ok() ? json::parse(*out, nullptr, false) : json{};
  }
  static json release(const std::string& bearer, const std::string& key, const std::string& target,
                      int expect_status, const std::string& enc = "RSA_AES_KEY_WRAP_256") {
    auto resp = call(bearer, "POST", "/keys/" + key + "/release", json{{"target", target}, {"enc", enc}, {"nonce", "n-1"}});
    EXPECT_EQ(resp.status, expect_status) << resp.body;
    return json::parse(resp.body, nullptr, false);
  }

  static inline std::unique_ptr<TempDir> root_;
  static inline std::unique_ptr<VtpmCa> ca_;
  static inline std::unique_ptr<Tlaunchd> svc_;
  static inline std::unique_ptr<token::SigningKey> ext_a_, ext_b_;
  static inline std::unique_ptr<crypto::PrivateKey> runtime_;
  static inline std::string admin_;
  static inline int jti_ = 0;
  static inline std::optional<std::string> setup_error_;
};

TEST_F(KeyReleaseE2E, AgentReleasesRsaEcAndAesKeysIntoItsTpmAndAgainAfterAReboot) {
  auto tpm = vm_tpm("good", boot_log_path());
  ASSERT_TRUE(tpm);
  struct Case {
    const char* name;
    json body;
  };
  const std::vector<Case> cases = {{"app-rsa", {{"kty", "RSA"}, {"key_size", 2048}}},
                                   {"app-ec", {{"kty", "EC"}, {"crv", "P-256"}}},
                                   {"app-aes", {{"kty", "oct"}, {"key_size", 256}}}};
  for (const auto& c : cases) {
    const json created = api("POST", std::string("/keys/") + c.name + "/create", exportable(c.body));
    const Bytes expected = vault_material(c.name, version_of(created));
    ASSERT_FALSE(expected.empty());
    const fs::path out = root_->path() / (std::string(c.name) + ".key");
    auto run = agent_release(*tpm, kGoodVm, boot_log_path(), svc_->base_url() + "/keys/" + c.name,
                             "--out " + shell_quote(out.string()));
    ASSERT_EQ(run.exit_code, 0) << c.name << ": " << run.err;
    EXPECT_EQ(read_bytes(out), expected) << c.name;
    struct stat st {};
    ASSERT_EQ(::stat(out.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << c.name;
    if (std::string(c.name) != "app-aes") {
      // The released private key belongs to the public key the vault shows.
      auto m = crypto::KeyMaterial::import_pkcs8_der(read_bytes(out));
      ASSERT_TRUE(m.ok()) << m.error().message;
      json pub = created["key"];
      for (const char* k : {"kid", "key_ops"}) pub.erase(k);
      EXPECT_EQ(m->public_jwk(), pub) << c.name;
    } else {
      EXPECT_EQ(read_bytes(out).size(), 32u);
    }
  }

  // A reboot: the TPM powers off and on (PCRs reset), firmware measures the
  // same boot again; the agent attests again and the release works again.
  auto reboot = tpm->run("swtpm_ioctl --tcp 127.0.0.1:" + std::to_string(tpm->port() + 1) + " -i && tpm2_startup -c");
  ASSERT_TRUE(reboot.ok()) << reboot.error().message;
  auto zero = tpm->run("tpm2_pcrread sha256:7");
  ASSERT_TRUE(zero.ok());
  EXPECT_NE(zero->find("0x0000000000000000000000000000000000000000000000000000000000000000"), std::string::npos) << *zero;
  auto parsed = eventlog::ParsedLog::parse(read_bytes(boot_log_path()));
  ASSERT_TRUE(parsed.ok());
  std::string replay = "true";
  for (const auto& e : parsed->events())
    if (e.type != 3 && !e.digest(crypto::HashAlg::sha256).empty())
      replay += " && tpm2_pcrextend " + std::to_string(e.pcr) + ":sha256=" + to_hex(e.digest(crypto::HashAlg::sha256));
  ASSERT_TRUE(tpm->run(replay).ok());
  const fs::path again = root_->path() / "app-aes-after-reboot.key";
  auto run = agent_release(*tpm, kGoodVm, boot_log_path(), "app-aes", "--out " + shell_quote(again.string()));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(read_bytes(again), read_bytes(root_->path() / "app-aes.key"));
}

TEST_F(KeyReleaseE2E, VmWithSecureBootOffIsDeniedNamingTheFailingClause) {
  const fs::path log = secure_boot_off_log(root_->path());
  auto tpm = vm_tpm("sb-off", log);
  ASSERT_TRUE(tpm);
  api("POST", "/keys/sb-key/create", exportable({{"kty", "oct"}}));
  const fs::path out = root_->path() / "sb-off.key";
  auto run = agent_release(*tpm, kSbOffVm, log, "sb-key", "--out " + shell_quote(out.string()));
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_NE(run.err.find("release-policy-denied"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("anyOf[0].allOf[0]"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("secureboot"), std::string::npos) << run.err;
  EXPECT_FALSE(fs::exists(out));

  // The same denial over HTTP carries the clause, and the audit log has it.
  const std::string token = attest(*tpm, kSbOffVm, log);
  auto denied = call(token, "POST", "/keys/sb-key/release", json{{"target", token}});
  EXPECT_EQ(denied.status, 403) << denied.body;
  const json p = json::parse(denied.body);
  EXPECT_EQ(p["reason"], "release-policy-denied");
  EXPECT_EQ(p["clause"], "anyOf[0].allOf[0]");
  const json audit = api("GET", "/vault/audit?key=sb-key&outcome=denied");
  ASSERT_FALSE(audit["value"].empty());
  const json& last = audit["value"].back();
  EXPECT_EQ(last["caller"], std::string("vm:") + kSbOffVm);
  EXPECT_EQ(last["clause"], "anyOf[0].allOf[0]");
  EXPECT_EQ(last["reason"], "release-policy-denied");
  EXPECT_FALSE(last["tokenJti"].get<std::string>().empty());
  EXPECT_EQ(last["tokenIssuer"], svc_->base_url());
}

TEST_F(KeyReleaseE2E, TokenOfTheSecondAuthorityReleasesAndAnIndependentClientUnwraps) {
  const json created = api("POST", "/keys/cvm-rsa/create", exportable({{"kty", "RSA"}, {"key_size", 3072}}));
  const Bytes expected = vault_material("cvm-rsa", version_of(created));
  for (const char* enc : {"RSA_AES_KEY_WRAP_256", "RSA_AES_KEY_WRAP_384", "CKM_RSA_AES_KEY_WRAP"}) {
    const json answer = release(admin_, "cvm-rsa", ext_token(ext_claims(), *ext_a_), 200, enc);
    const json out = unwrap_independently(answer.value("value", ""));
    EXPECT_EQ(out.value("material", ""), to_hex(expected)) << enc;
    EXPECT_EQ(out["payload"]["request"]["enc"], enc);
    EXPECT_EQ(out["payload"]["request"]["nonce"], "n-1");
    EXPECT_EQ(out["payload"]["response"]["key"]["key"]["kid"], created["key"]["kid"]);
  }
  std::vector<json> releases;
  const json allowed = api("GET", "/vault/audit?key=cvm-rsa&outcome=allowed");
  for (const auto& e : allowed["value"])
    if (e["operation"] == "release") releases.push_back(e);
  ASSERT_EQ(releases.size(), 3u) << api("GET", "/vault/audit?key=cvm-rsa").dump();
  for (const auto& e : releases) {
    EXPECT_EQ(e["clause"], "anyOf[1]");
    EXPECT_EQ(e["tokenIssuer"], kExtIssuer);
    EXPECT_EQ(e["caller"], "admin");
    EXPECT_EQ(e["keyVersion"], version_of(created));
  }
}

TEST_F(KeyReleaseE2E, EachBadTargetOrCallerIsDeniedWithItsOwnReason) {
  api("POST", "/keys/guarded/create", exportable({{"kty", "oct"}}));
  auto reason_of = [](const json& p) { return p.value("reason", std::string("?")); };

  // An issuer nobody trusts, with otherwise perfect claims.
  auto rogue = token::SigningKey::generate(crypto::JwsAlg::es256);
  ASSERT_TRUE(rogue.ok());
  json rogue_claims = ext_claims();
  rogue_claims["iss"] = "https://rogue.example.test";
  EXPECT_EQ(reason_of(release(admin_, "guarded", ext_token(rogue_claims, *rogue), 403)), "token-untrusted-issuer");
  // The trusted issuer's own key, but expired.
  EXPECT_EQ(reason_of(release(admin_, "guarded", ext_token(ext_claims(-3600), *ext_a_), 403)), "token-expired");
  // alg none (unsigned), with and without a signature part.
  const std::string none_header = b64(R"({"alg":"none","typ":"JWT"})");
  const std::string claims = b64(ext_claims().dump());
  EXPECT_EQ(reason_of(release(admin_, "guarded", none_header + "." + claims + ".", 403)), "token-alg-refused");
  EXPECT_EQ(reason_of(release(admin_, "guarded", none_header + "." + claims + ".c2ln", 403)), "token-alg-refused");
  // Signed by key A, header naming key B of the same issuer.
  {
    const std::string t = ext_token(ext_claims(), *ext_a_);
    const size_t dot = t.find('.');
    auto header_bytes = token::base64url_decode(t.substr(0, dot));
    ASSERT_TRUE(header_bytes.ok());
    json header = json::parse(std::string(header_bytes->begin(), header_bytes->end()));
    header["kid"] = ext_b_->kid();
    EXPECT_EQ(reason_of(release(admin_, "guarded", b64(header.dump()) + t.substr(dot), 403)), "token-signature-invalid");
  }
  // A VM presenting another VM's token: the key would be wrapped to the other TPM.
  auto third = vm_tpm("third", boot_log_path());
  auto other = vm_tpm("other", boot_log_path());
  ASSERT_TRUE(third && other);
  const std::string good_token = attest(*third, kThirdVm, boot_log_path());
  const std::string other_token = attest(*other, kOtherVm, boot_log_path());
  ASSERT_FALSE(good_token.empty() || other_token.empty());
  EXPECT_EQ(reason_of(release(other_token, "guarded", good_token, 403)), "runtime-key-not-callers");
  // ...while its own token passes.
  release(other_token, "guarded", other_token, 200);
  // A caller without `release`.
  const json tok = api("POST", "/vault/tokens", json{{"name", "reader"}}, 201);
  api("PUT", "/vault/access-policies", json{{"identity", "token:reader"}, {"scope", "*"}, {"operations", {"get", "list"}}});
  const std::string reader = tok["token"].get<std::string>();
  EXPECT_EQ(call(reader, "GET", "/keys/guarded").status, 200);
  EXPECT_EQ(reason_of(release(reader, "guarded", ext_token(ext_claims(), *ext_a_), 403)), "forbidden");
  // No credential at all.
  EXPECT_EQ(call("", "POST", "/keys/guarded/release", json{{"target", good_token}}).status, 401);

  // Every denial is in the audit log with its reason.
  const json audit = api("GET", "/vault/audit?key=guarded&outcome=denied&limit=100");
  std::set<std::string> reasons;
  for (const auto& e : audit["value"]) reasons.insert(e["reason"].get<std::string>());
  for (const char* r : {"token-untrusted-issuer", "token-expired", "token-alg-refused", "token-signature-invalid",
                        "runtime-key-not-callers", "forbidden"})
    EXPECT_EQ(reasons.count(r), 1u) << r << " missing from " << audit.dump();
}

TEST_F(KeyReleaseE2E, ImmutableAndExportableRulesHold) {
  auto reason = [](const json& p) { return p.value("reason", std::string("?")); };
  // exportable needs a policy; a policy needs exportable.
  EXPECT_EQ(reason(api("POST", "/keys/r1/create", json{{"kty", "oct"}, {"attributes", {{"exportable", true}}}}, 400)),
            "exportable-needs-policy");
  json pol_only = exportable({{"kty", "oct"}});
  pol_only["attributes"]["exportable"] = false;
  EXPECT_EQ(reason(api("POST", "/keys/r2/create", pol_only, 400)), "policy-needs-exportable");
  // exportable never changes, either way.
  api("POST", "/keys/r3/create", json{{"kty", "oct"}});
  EXPECT_EQ(reason(api("PATCH", "/keys/r3", json{{"attributes", {{"exportable", true}}}}, 409)), "exportable-immutable");
  api("POST", "/keys/r4/create", exportable({{"kty", "oct"}}));
  EXPECT_EQ(reason(api("PATCH", "/keys/r4", json{{"attributes", {{"exportable", false}}}}, 409)), "exportable-immutable");
  // A mutable policy can be replaced; an immutable one never changes.
  const json other_policy = {{"data", b64(json{{"version", "1.0.0"},
                                                {"anyOf", {{{"authority", kExtIssuer},
                                                            {"allOf", {{{"claim", "x"}, {"exists", true}}}}}}}}
                                                .dump())}};
  EXPECT_EQ(api("PATCH", "/keys/r4", json{{"release_policy", other_policy}})["release_policy"]["data"], other_policy["data"]);
  api("POST", "/keys/r5/create", exportable({{"kty", "oct"}}, /*immutable=*/true));
  EXPECT_EQ(reason(api("PATCH", "/keys/r5", json{{"release_policy", other_policy}}, 409)), "release-policy-immutable");
  // Nor does a new version made by create or import on the same name.
  json wider = json{{"kty", "oct"}, {"attributes", {{"exportable", true}}}, {"release_policy", other_policy}};
  EXPECT_EQ(reason(api("POST", "/keys/r5/create", wider, 409)), "release-policy-immutable");
  EXPECT_EQ(reason(api("POST", "/keys/r3/create", exportable({{"kty", "oct"}}), 409)), "exportable-immutable");
  // A malformed policy is refused at creation with its location.
  json bad = exportable({{"kty", "oct"}});
  bad["release_policy"]["data"] = b64(R"({"version":"1.0.0","anyOf":[{"authority":"https://a","allOf":[{"claim":"x"}]}]})");
  const json p = api("POST", "/keys/r6/create", bad, 400);
  EXPECT_EQ(reason(p), "release-policy-invalid");
  EXPECT_NE(p["detail"].get<std::string>().find("anyOf[0].allOf[0]"), std::string::npos) << p.dump();
  // A non-exportable key is never released.
  EXPECT_EQ(release(admin_, "r3", ext_token(ext_claims(), *ext_a_), 403).value("reason", ""), "key-not-exportable");
}

TEST_F(KeyReleaseE2E, KeyMaterialOnDiskIsUnreadableWithoutTheKek) {
  // A key whose bytes the test knows (BYOK), and a generated one.
  Bytes secret(32);
  for (size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<uint8_t>(0xA0 ^ (i * 7));
  json jwk = {{"kty", "oct"}, {"k", token::base64url_encode(secret)}};
  json body = exportable({});
  body["key"] = jwk;
  const json imported = api("PUT", "/keys/byok-aes", body);
  const json rsa = api("POST", "/keys/disk-rsa/create", exportable({{"kty", "RSA"}}));
  const Bytes rsa_der = vault_material("disk-rsa", version_of(rsa));
  ASSERT_EQ(vault_material("byok-aes", version_of(imported)), secret);

  const fs::path db = root_->path() / "svc/tlaunchd.db";
  for (const std::string suffix : {"", "-wal"}) {
    const Bytes file = read_bytes(db.string() + suffix);
    EXPECT_FALSE(contains(file, secret)) << "tlaunchd.db" << suffix;
    EXPECT_FALSE(contains(file, rsa_der)) << "tlaunchd.db" << suffix;
    // Nor the private exponent's encoding on its own (a PKCS#8 could be re-wrapped).
    EXPECT_FALSE(contains(file, ByteView(rsa_der).subspan(rsa_der.size() - 64))) << "tlaunchd.db" << suffix;
  }
  // Another KEK cannot open the vault.
  auto wrong = keys::kek::open_file_kek((root_->path() / "wrong.kek").string(), true);
  ASSERT_TRUE(wrong.ok());
  auto v = keys::Vault::open(db, **wrong);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().reason, "kek-mismatch");
}

TEST_F(KeyReleaseE2E, SoftHsmHeldKekWorksAcrossRestarts) {
  const fs::path dir = root_->path() / "hsm";
  fs::create_directories(dir / "tokens");
  write_text(dir / "softhsm2.conf", "directories.tokendir = " + (dir / "tokens").string() + "\nobjectstore.backend = file\n");
  const std::string env = "SOFTHSM2_CONF=" + shell_quote((dir / "softhsm2.conf").string()) + " ";
  auto init = sh(env + "softhsm2-util --init-token --free --label tl-e2e --pin 2468 --so-pin 13579");
  ASSERT_TRUE(init.ok()) << init.error().message;
  write_text(dir / "pin", "2468\n");
  ::setenv("SOFTHSM2_CONF", (dir / "softhsm2.conf").c_str(), 1);
  const std::vector<std::string> args = {"--pkcs11-module", "/usr/lib/softhsm/libsofthsm2.so", "--pkcs11-token", "tl-e2e",
                                         "--pkcs11-pin-file", (dir / "pin").string(), "--config",
                                         (root_->path() / "tlaunchd.json").string()};
  std::string first_material;
  {
    auto svc = Tlaunchd::start(dir / "svc", args);
    ASSERT_TRUE(svc.ok()) << svc.error().message;
    EXPECT_NE((*svc)->log_text().find("pkcs11"), std::string::npos) << (*svc)->log_text();
    EXPECT_FALSE(fs::exists(dir / "svc/tlaunchd.db.kek"));
    std::ifstream in(dir / "svc/tlaunchd.db.admin-token");
    std::string admin;
    std::getline(in, admin);
    auto c = http::Client::create((*svc)->base_url());
    ASSERT_TRUE(c.ok());
    http::Headers h{{"Authorization", "Bearer " + admin}, {"Content-Type", "application/json"}};
    json body = exportable({{"kty", "oct"}});
    body["release_policy"]["data"] = b64(policy((*svc)->base_url()).dump());
    auto created = (*c)->request("POST", "/keys/hsm-key/create", body.dump(), h);
    ASSERT_TRUE(created.ok());
    ASSERT_EQ(created->status, 200) << created->body;
    auto rel = (*c)->request("POST", "/keys/hsm-key/release",
                             json{{"target", ext_token(ext_claims(), *ext_a_)}}.dump(), h);
    ASSERT_TRUE(rel.ok());
    ASSERT_EQ(rel->status, 200) << rel->body;
    first_material = unwrap_independently(json::parse(rel->body)["value"], (*svc)->base_url()).value("material", "");
    EXPECT_EQ(first_material.size(), 64u);
  }
  // Restarted: the KEK comes from the token again and opens the same vault.
  auto svc = Tlaunchd::start(dir / "svc", args);
  ASSERT_TRUE(svc.ok()) << svc.error().message;
  std::ifstream in(dir / "svc/tlaunchd.db.admin-token");
  std::string admin;
  std::getline(in, admin);
  auto c = http::Client::create((*svc)->base_url());
  ASSERT_TRUE(c.ok());
  http::Headers h{{"Authorization", "Bearer " + admin}, {"Content-Type", "application/json"}};
  auto rel = (*c)->request("POST", "/keys/hsm-key/release", json{{"target", ext_token(ext_claims(), *ext_a_)}}.dump(), h);
  ASSERT_TRUE(rel.ok()) << rel.error().message << "\n" << (*svc)->log_text();
  ASSERT_EQ(rel->status, 200) << rel->body;
  EXPECT_EQ(unwrap_independently(json::parse(rel->body)["value"], (*svc)->base_url()).value("material", ""), first_material);
  // A wrong PIN: tlaunchd refuses to start, saying why, without the PIN.
  write_text(dir / "bad-pin", "0000\n");
  std::vector<std::string> bad = args;
  bad[5] = (dir / "bad-pin").string();
  svc->reset();
  auto refused = Tlaunchd::start(dir / "svc", bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message.find("0000"), std::string::npos) << refused.error().message;
}

TEST_F(KeyReleaseE2E, ClientCertificateFromTheClientCaIsAnIdentity) {
  const fs::path dir = root_->path() / "mtls";
  auto tls = make_tls_files(dir);
  ASSERT_TRUE(tls.ok()) << tls.error().message;
  // A client CA and a client certificate it issued (clientAuth).
  auto made = sh("cd " + shell_quote(dir.string()) +
                 " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout cca.key -out cca.pem"
                 " -days 2 -subj /CN=tl-clients -addext basicConstraints=critical,CA:TRUE"
                 " -addext keyUsage=critical,keyCertSign"
                 " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout client.key -out client.csr"
                 " -subj /CN=build-runner-7 && printf 'extendedKeyUsage=clientAuth\\n' > cext.cnf"
                 " && openssl x509 -req -in client.csr -CA cca.pem -CAkey cca.key -CAcreateserial -days 2"
                 " -extfile cext.cnf -out client.pem"
                 " && openssl x509 -in client.pem -outform DER | sha256sum | cut -c1-64");
  ASSERT_TRUE(made.ok()) << made.error().message;
  const std::string fingerprint = made->substr(0, 64);
  auto svc = Tlaunchd::start(dir / "svc", {"--tls-cert", tls->cert_pem.string(), "--tls-key", tls->key_pem.string(),
                                           "--client-ca", (dir / "cca.pem").string()});
  ASSERT_TRUE(svc.ok()) << svc.error().message;
  std::ifstream in(dir / "svc/tlaunchd.db.admin-token");
  std::string admin;
  std::getline(in, admin);
  http::ClientOptions as_client;
  as_client.ca_file = tls->ca_pem.string();
  as_client.client_certificate = http::TlsFiles{(dir / "client.pem").string(), (dir / "client.key").string()};
  http::ClientOptions as_admin;
  as_admin.ca_file = tls->ca_pem.string();
  auto client = http::Client::create((*svc)->base_url(), as_client);
  auto adm = http::Client::create((*svc)->base_url(), as_admin);
  ASSERT_TRUE(client.ok() && adm.ok());
  const http::Headers admin_h{{"Authorization", "Bearer " + admin}, {"Content-Type", "application/json"}};
  auto created = (*adm)->request("POST", "/keys/ci-key/create", json{{"kty", "oct"}}.dump(), admin_h);
  ASSERT_TRUE(created.ok());
  ASSERT_EQ(created->status, 200) << created->body;

  // The certificate authenticates (no bearer needed) but grants nothing yet.
  auto before = (*client)->request("GET", "/keys/ci-key");
  ASSERT_TRUE(before.ok()) << before.error().message;
  EXPECT_EQ(before->status, 403) << before->body;
  EXPECT_NE(before->body.find("cert:sha256:" + fingerprint), std::string::npos) << before->body;
  // Granted by its fingerprint, it reads the key.
  auto grant = (*adm)->request("PUT", "/vault/access-policies",
                               json{{"identity", "cert:sha256:" + fingerprint}, {"scope", "ci-key"}, {"operations", {"get"}}}.dump(),
                               admin_h);
  ASSERT_TRUE(grant.ok());
  ASSERT_EQ(grant->status, 200) << grant->body;
  auto after = (*client)->request("GET", "/keys/ci-key");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, 200) << after->body;
  // Without a certificate or a bearer: unauthorized.
  auto none = (*adm)->request("GET", "/keys/ci-key");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->status, 401);
}

TEST_F(KeyReleaseE2E, CliManagesKeysTokensAccessAndReadsTheAudit) {
  const fs::path r = root_->path();
  const std::string conn = " --server " + svc_->base_url() + " --token-file " +
                           shell_quote((r / "svc/tlaunchd.db.admin-token").string());
  write_text(r / "cli-policy.json", policy(svc_->base_url()).dump());
  auto created = run_tlaunch("key create cli-aes --kty oct --exportable --policy " +
                             shell_quote((r / "cli-policy.json").string()) + " --tag team=sre --json" + conn);
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const json bundle = json::parse(created.out, nullptr, false);
  EXPECT_EQ(bundle["key"]["kty"], "oct");
  EXPECT_EQ(bundle["attributes"]["exportable"], true);
  EXPECT_EQ(bundle["tags"]["team"], "sre");
  // The same key through the API.
  EXPECT_EQ(api("GET", "/keys/cli-aes")["key"]["kid"], bundle["key"]["kid"]);

  auto rotated = run_tlaunch("key rotate cli-aes --json" + conn);
  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  auto versions = run_tlaunch("key list --versions cli-aes --json" + conn);
  ASSERT_EQ(versions.exit_code, 0) << versions.err;
  EXPECT_NE(versions.out.find(version_of(bundle)), std::string::npos) << versions.out;

  // An API token with release on this key only, issued and granted by the CLI.
  auto tok = run_tlaunch("key token create cli-ci --json" + conn);
  ASSERT_EQ(tok.exit_code, 0) << tok.err;
  const std::string api_token = json::parse(tok.out, nullptr, false).value("token", "");
  ASSERT_EQ(api_token.rfind("tlk_", 0), 0u) << tok.out;
  auto grant = run_tlaunch("key access set token:cli-ci --scope cli-aes --ops get,release" + conn);
  ASSERT_EQ(grant.exit_code, 0) << grant.err;
  write_text(r / "cli-ci.token", api_token + "\n");
  write_text(r / "ext.jwt", ext_token(ext_claims(), *ext_a_));
  const std::string as_ci = " --server " + svc_->base_url() + " --token-file " + shell_quote((r / "cli-ci.token").string());
  auto rel = run_tlaunch("key release cli-aes --target " + shell_quote((r / "ext.jwt").string()) + as_ci);
  ASSERT_EQ(rel.exit_code, 0) << rel.err;
  EXPECT_EQ(unwrap_independently(rel.out.substr(0, rel.out.find_last_not_of("\n") + 1))["material"].get<std::string>().size(), 64u);
  // Not on another key.
  auto other = run_tlaunch("key release guarded-cli --target " + shell_quote((r / "ext.jwt").string()) + as_ci);
  EXPECT_EQ(other.exit_code, 1) << other.out;

  // Deleted, listed as deleted, recovered.
  ASSERT_EQ(run_tlaunch("key delete cli-aes" + conn).exit_code, 0);
  EXPECT_EQ(call(admin_, "GET", "/keys/cli-aes").status, 409);
  auto deleted = run_tlaunch("key list --deleted --json" + conn);
  EXPECT_NE(deleted.out.find("cli-aes"), std::string::npos) << deleted.out;
  ASSERT_EQ(run_tlaunch("key recover cli-aes" + conn).exit_code, 0);
  EXPECT_EQ(call(admin_, "GET", "/keys/cli-aes").status, 200);

  // The audit trail, as the CLI shows it.
  auto audit = run_tlaunch("key audit cli-aes --json" + conn);
  ASSERT_EQ(audit.exit_code, 0) << audit.err;
  for (const char* op : {"\"create\"", "\"rotate\"", "\"release\"", "\"delete\"", "\"recover\""})
    EXPECT_NE(audit.out.find(op), std::string::npos) << op << " not in " << audit.out;
}

}  // namespace
}  // namespace tl::test
