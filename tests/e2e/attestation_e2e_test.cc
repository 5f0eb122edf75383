// Issue 3 end to end, all real: vTPMs are swtpm instances provisioned with EK
// certificates by a local vTPM CA and holding a real Secure Boot boot (the
// recorded OVMF/shim/GRUB/Linux 6.1 log replayed into their PCRs); tlaunchd is
// the real binary on 127.0.0.1; the agent is the real binary or its library.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "agent/client/attestation_client.h"
#include "eventlog/parsed_log.h"
#include "fixture.h"
#include "http/http.h"
#include "support/cli_runner.h"
#include "support/test_support.h"
#include "token/base64url.h"

namespace tl::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kVmA = "4a1b2c3d-0000-4000-8000-00000000000a";

class AttestationE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = std::make_unique<TempDir>();
    const fs::path r = root_->path();
    auto ca = VtpmCa::create(r / "vtpm-ca");
    if (!ca) return fail("vTPM CA: " + ca.error().message);
    ca_ = std::move(*ca);
    auto tls = make_tls_files(r / "tls");
    if (!tls) return fail("TLS files: " + tls.error().message);
    tls_ = *tls;
    std::ofstream(r / "os-release") << "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n"
                                       "VERSION_ID=\"12\"\nID=debian\n";
    auto vm = start_vm_tpm(*ca_, r / "vm-a", boot_log_path());
    if (!vm) return fail("VM A vTPM: " + vm.error().message);
    vm_a_ = std::move(*vm);
    auto svc = Tlaunchd::start(r / "svc", ek_ca_args());
    if (!svc) return fail("tlaunchd: " + svc.error().message);
    svc_ = std::move(*svc);
  }
  static void TearDownTestSuite() {
    svc_.reset();
    vm_a_.reset();
    ca_.reset();
    root_.reset();
  }
  void SetUp() override {
    if (setup_error_) GTEST_FAIL() << *setup_error_;
  }
  static void fail(const std::string& m) {
    if (!setup_error_) setup_error_ = m;
  }
  static std::vector<std::string> ek_ca_args() {
    return {"--ek-ca", ca_->root_pem().string(), "--ek-ca", ca_->issuer_pem().string()};
  }

  static agent::AgentOptions options(const Swtpm& tpm, const std::string& vm_id, const std::string& base_url) {
    agent::AgentOptions o;
    o.endpoint = base_url;
    o.tcti = tpm.tcti();
    o.vm_id = vm_id;
    o.eventlog = boot_log_path();
    o.os_release = root_->path() / "os-release";
    o.state_dir = root_->path() / ("state-" + vm_id);
    return o;
  }
  static std::unique_ptr<agent::AttestationClient> client(const Swtpm& tpm, const std::string& vm_id,
                                                          agent::AgentOptions* tweak = nullptr) {
    auto o = tweak ? *tweak : options(tpm, vm_id, svc_->base_url());
    auto c = agent::AttestationClient::create(o);
    EXPECT_TRUE(c.ok()) << c.error().message;
    return c.ok() ? std::move(*c) : nullptr;
  }

  // Raw API calls, as any client would make them.
  static http::Response post(const std::string& path, const json& body) {
    auto c = http::Client::create(svc_->base_url());
    EXPECT_TRUE(c.ok());
    auto r = (*c)->post_json(path, body.dump());
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : http::Response{};
  }
  static Bytes challenge(const std::string& vm_id) {
    auto r = post("/challenge", json{{"vmId", vm_id}});
    EXPECT_EQ(r.status, 200) << r.body;
    auto j = json::parse(r.body);
    return *token::base64url_decode(j["nonce"].get<std::string>());
  }
  // Asserts an RFC 7807 answer with this status and reason.
  static void expect_problem(const http::Response& r, int status, const std::string& reason) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.headers.count("Content-Type") ? r.headers.at("Content-Type") : "", "application/problem+json");
    auto j = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r.body;
    EXPECT_EQ(j.value("reason", ""), reason) << r.body;
    EXPECT_EQ(j.value("type", ""), "urn:trustlaunch:problem:" + reason);
    EXPECT_EQ(j.value("status", 0), status);
    EXPECT_FALSE(j.value("detail", "").empty());
  }
  // Enrolls (if needed) and returns good evidence for a fresh challenge.
  static json good_evidence(agent::AttestationClient& c, const std::string& vm_id) {
    auto n = challenge(vm_id);
    auto e = c.collect_evidence(n);
    EXPECT_TRUE(e.ok()) << e.error().message;
    return e.ok() ? *e : json{};
  }
  static void ensure_enrolled(agent::AttestationClient& c) {
    auto st = c.enroll();
    ASSERT_TRUE(st.ok()) << st.error().message;
  }

  static json check_token(const std::string& base_url, const std::string& token, const std::string& ca = "") {
    const fs::path f = root_->path() / "token.txt";
    std::ofstream(f) << token;
    auto out = sh("/usr/bin/python3 " + shell_quote((source_dir() / "check_token.py").string()) + " " +
                  shell_quote(base_url) + " " + shell_quote(f.string()) + (ca.empty() ? "" : " " + shell_quote(ca)));
    EXPECT_TRUE(out.ok()) << out.error().message;
    return out.ok() ? json::parse(*out) : json{};
  }
  static fs::path source_dir() { return fs::path(__FILE__).parent_path(); }

  static Result<std::string> run_agent(const std::string& args) {
    return sh((build_dir() / "tlaunch-agent").string() + " " + args);
  }

  static inline std::unique_ptr<TempDir> root_;
  static inline std::unique_ptr<VtpmCa> ca_;
  static inline TlsFiles tls_;
  static inline std::unique_ptr<Swtpm> vm_a_;
  static inline std::unique_ptr<Tlaunchd> svc_;
  static inline std::optional<std::string> setup_error_;
};

// The main path over HTTP with the real agent binary: enroll → attest → a token
// that standard tools verify against /certs, with the claims of the real boot.
TEST_F(AttestationE2E, AgentBinaryEnrollsAttestsAndTheTokenVerifiesWithStandardTools) {
  const std::string args = "attest --once --endpoint " + svc_->base_url() + " --tcti " + shell_quote(vm_a_->tcti()) +
                           " --vm-id " + kVmA + " --eventlog " + shell_quote(boot_log_path().string()) +
                           " --os-release " + shell_quote((root_->path() / "os-release").string()) +
                           " --state-dir " + shell_quote((root_->path() / "agent-a").string()) +
                           " --client-payload '{\"nonce\":\"relying-party-123\"}'";
  auto out = run_agent(args);
  ASSERT_TRUE(out.ok()) << out.error().message << "\n" << svc_->log_text();
  std::string token = *out;
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  token = token.substr(token.rfind('\n') == std::string::npos ? 0 : token.rfind('\n') + 1);

  json v = check_token(svc_->base_url(), token);
  ASSERT_TRUE(v.contains("claims")) << v.dump();
  const json& c = v["claims"];
  EXPECT_EQ(v["header"]["alg"], "ES256");
  EXPECT_EQ(c["iss"], svc_->base_url());
  EXPECT_EQ(c["exp"].get<int64_t>() - c["iat"].get<int64_t>(), 8 * 3600);
  EXPECT_EQ(c["x-ms-attestation-type"], "azurevm");
  EXPECT_EQ(c["x-ms-ver"], "1.0");
  EXPECT_EQ(c["secureboot"], true);
  EXPECT_EQ(c["x-ms-azurevm-vmid"], kVmA);
  EXPECT_EQ(c["x-ms-azurevm-ostype"], "Linux");
  EXPECT_EQ(c["x-ms-azurevm-osdistro"], "Debian GNU/Linux");
  EXPECT_EQ(c["x-ms-azurevm-osversion-major"], 12);
  EXPECT_EQ(c["x-ms-azurevm-bootdebug-enabled"], false);
  EXPECT_EQ(c["x-ms-azurevm-kerneldebug-enabled"], false);
  for (uint32_t p = 0; p < 8; ++p)
    EXPECT_NE(std::find(c["x-ms-azurevm-attested-pcrs"].begin(), c["x-ms-azurevm-attested-pcrs"].end(), p),
              c["x-ms-azurevm-attested-pcrs"].end()) << p;
  // PCR 7 and the boot applications are those of the recorded boot.
  EXPECT_EQ(c["x-tl-pcrs"]["sha256"]["7"], "75677db6f14082d3bfec4d14bdd75c8d72612ef6914ca99cd5a5997b7a21309d");
  const std::string shim = "80a66d53a945d2286fcadd780fae1c225aa732079cd67b5225dc78aaab4e2ff8";
  bool found_shim = false;
  for (const auto& app : c["x-tl-boot-apps"]) found_shim |= app.dump().find(shim) != std::string::npos;
  EXPECT_TRUE(found_shim) << c["x-tl-boot-apps"].dump();
  // The recorded boot's kernel (6.1.0-56-amd64) was loaded through shim from
  // /vmlinuz: its digest and command line are measured, its version is not.
  bool found_kernel = false;
  for (const auto& app : c["x-tl-boot-apps"])
    found_kernel |= app.dump().find("6b1bf35c3bee9918250f593a6fff889c75c1e239cd2fe9e5bb0cd3de9dcb8e51") != std::string::npos;
  EXPECT_TRUE(found_kernel) << c["x-tl-boot-apps"].dump();
  EXPECT_EQ(c["x-tl-kernel-cmdline"], "/vmlinuz console=ttyS0,115200 quiet loglevel=4 panic=-1");
  EXPECT_TRUE(c["x-tl-kernel-version"].is_null()) << "the log names /vmlinuz, no version";
  EXPECT_EQ(c["x-tl-ek-cert-validated"], true);
  EXPECT_EQ(c["x-ms-runtime"]["client-payload"]["nonce"], "relying-party-123");
  ASSERT_EQ(c["x-ms-runtime"]["keys"].size(), 1u);
  EXPECT_EQ(c["x-ms-runtime"]["keys"][0]["kid"], "TpmEphemeralEncryptionKey");
  EXPECT_EQ(c["x-ms-runtime"]["keys"][0]["kty"], "RSA");
  EXPECT_EQ(c["x-ms-runtime"]["keys"][0]["key_ops"], json::array({"encrypt"}));
  EXPECT_FALSE(c["nonce"].get<std::string>().empty());

  // The agent's status file says so.
  auto status = run_agent("status --state-dir " + shell_quote((root_->path() / "agent-a").string()));
  EXPECT_TRUE(status.ok()) << status.error().message;

  // Attesting again needs no new enrollment.
  auto c2 = client(*vm_a_, kVmA);
  ASSERT_TRUE(c2);
  auto again = c2->attest();
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_FALSE(again->enrolled_now);
}

// HTTPS: the agent checks the server against the configured CA; another CA is refused.
TEST_F(AttestationE2E, AgentOverHttpsWithItsCaAndRefusedWithAnother) {
  auto svc = Tlaunchd::start(root_->path() / "svc-tls",
                             [] {
                               auto a = ek_ca_args();
                               a.insert(a.end(), {"--tls-cert", tls_.cert_pem.string(), "--tls-key", tls_.key_pem.string(),
                                                  "--signing-alg", "PS256"});
                               return a;
                             }());
  ASSERT_TRUE(svc.ok()) << svc.error().message;
  auto vm = start_vm_tpm(*ca_, root_->path() / "vm-tls", boot_log_path());
  ASSERT_TRUE(vm.ok()) << vm.error().message;
  const std::string vm_id = "4a1b2c3d-0000-4000-8000-0000000000b1";
  auto o = options(**vm, vm_id, (*svc)->base_url());
  o.ca_file = tls_.ca_pem.string();
  {
    auto c = client(**vm, vm_id, &o);
    ASSERT_TRUE(c);
    auto r = c->attest();
    ASSERT_TRUE(r.ok()) << r.error().message << "\n" << (*svc)->log_text();
    EXPECT_TRUE(r->enrolled_now);
    json v = check_token((*svc)->base_url(), r->token, tls_.ca_pem.string());
    EXPECT_EQ(v["header"]["alg"], "PS256");
    EXPECT_EQ(v["claims"]["x-ms-azurevm-vmid"], vm_id);
  }
  o.ca_file = ca_->root_pem().string();  // not the CA of the server certificate
  auto c = client(**vm, vm_id, &o);
  ASSERT_TRUE(c);
  auto r = c->attest();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "network");
  EXPECT_NE(r.error().message.find("certificate"), std::string::npos) << r.error().message;
}

TEST_F(AttestationE2E, WrongNonceIsRefused) {
  auto c = client(*vm_a_, kVmA);
  ASSERT_TRUE(c);
  ensure_enrolled(*c);
  // Evidence made for a nonce the service never issued.
  Bytes made_up(34, 0x42);
  made_up[0] = 1;
  made_up[1] = 1;
  auto e = c->collect_evidence(made_up);
  ASSERT_TRUE(e.ok()) << e.error().message;
  expect_problem(post("/attest", *e), 403, "challenge-invalid");
  // A challenge issued for another VM.
  auto other = c->collect_evidence(challenge("some-other-vm"));
  ASSERT_TRUE(other.ok());
  expect_problem(post("/attest", *other), 403, "challenge-invalid");
  // Evidence quoted over one challenge, presented with another.
  json ev = good_evidence(*c, kVmA);
  ev["nonce"] = token::base64url_encode(challenge(kVmA));
  expect_problem(post("/attest", ev), 403, "quote-nonce");
}

// A replica on the same database checks the challenges of another: here one
// that issues 5-second challenges; after 6 s the primary refuses it as expired.
TEST_F(AttestationE2E, ExpiredNonceIsRefusedAndReplicasShareChallenges) {
  auto args = ek_ca_args();
  args.insert(args.end(), {"--db", (root_->path() / "svc/tlaunchd.db").string(), "--challenge-lifetime", "5"});
  auto replica = Tlaunchd::start(root_->path() / "replica", args);
  ASSERT_TRUE(replica.ok()) << replica.error().message;
  auto c = client(*vm_a_, kVmA);
  ASSERT_TRUE(c);
  ensure_enrolled(*c);
  auto hc = http::Client::create((*replica)->base_url());
  ASSERT_TRUE(hc.ok());
  auto fetch = [&] {
    auto r = (*hc)->post_json("/challenge", json{{"vmId", kVmA}}.dump());
    EXPECT_TRUE(r.ok() && r->status == 200);
    return *token::base64url_decode(json::parse(r->body)["nonce"].get<std::string>());
  };
  // A challenge from the replica is good at the primary.
  auto fresh = c->collect_evidence(fetch());
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(post("/attest", *fresh).status, 200);
  // One that has expired is not.
  const Bytes n = fetch();
  std::this_thread::sleep_for(std::chrono::seconds(6));
  auto late = c->collect_evidence(n);
  ASSERT_TRUE(late.ok());
  expect_problem(post("/attest", *late), 403, "challenge-expired");
}

TEST_F(AttestationE2E, ReplayedEvidenceIsRefused) {
  auto c = client(*vm_a_, kVmA);
  ASSERT_TRUE(c);
  ensure_enrolled(*c);
  json ev = good_evidence(*c, kVmA);
  ASSERT_EQ(post("/attest", ev).status, 200);
  expect_problem(post("/attest", ev), 403, "challenge-replayed");  // the same nonce again
  ev["nonce"] = token::base64url_encode(challenge(kVmA));          // old evidence, new nonce
  expect_problem(post("/attest", ev), 403, "quote-nonce");
}

TEST_F(AttestationE2E, AkFromAnotherTpmIsRefusedAndTakeoverNeedsAnOperator) {
  const std::string vm_id = "4a1b2c3d-0000-4000-8000-0000000000c1";
  auto first = start_vm_tpm(*ca_, root_->path() / "vm-c1", boot_log_path());
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto other = start_vm_tpm(*ca_, root_->path() / "vm-c2", boot_log_path());
  ASSERT_TRUE(other.ok()) << other.error().message;
  {
    auto a = client(**first, vm_id);
    ASSERT_TRUE(a);
    ensure_enrolled(*a);
  }
  auto c = client(**other, vm_id);
  ASSERT_TRUE(c);
  auto ev = c->collect_evidence(challenge(vm_id));
  ASSERT_TRUE(ev.ok());
  expect_problem(post("/attest", *ev), 403, "ak-mismatch");
  // Enrolling the other TPM's EK under this VM id is an identity takeover.
  auto st = c->enroll();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().reason, "ek-takeover-refused");
  // Until an operator allows it, once.
  auto allowed = sh((build_dir() / "tlaunchd").string() + " allow-reenroll " + vm_id + " --db " +
                    shell_quote((root_->path() / "svc/tlaunchd.db").string()));
  ASSERT_TRUE(allowed.ok()) << allowed.error().message;
  auto r = c->attest();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->enrolled_now);
  auto back = client(**first, vm_id);
  ASSERT_TRUE(back);
  auto st2 = back->enroll();
  ASSERT_FALSE(st2.ok());
  EXPECT_EQ(st2.error().reason, "ek-takeover-refused");
  // One TPM attests for one VM: VM A's vTPM cannot also enroll as another VM id.
  {
    auto a = client(*vm_a_, kVmA);
    ASSERT_TRUE(a);
    ensure_enrolled(*a);
  }
  auto a_as_other = client(*vm_a_, "4a1b2c3d-0000-4000-8000-0000000000c9");
  ASSERT_TRUE(a_as_other);
  auto st3 = a_as_other->enroll();
  ASSERT_FALSE(st3.ok());
  EXPECT_EQ(st3.error().reason, "ek-already-enrolled");
}

TEST_F(AttestationE2E, EkCertificateFromAnUnknownCaIsRefused) {
  auto other_ca = VtpmCa::create(root_->path() / "other-ca");
  ASSERT_TRUE(other_ca.ok()) << other_ca.error().message;
  auto vm = start_vm_tpm(**other_ca, root_->path() / "vm-d", boot_log_path());
  ASSERT_TRUE(vm.ok()) << vm.error().message;
  auto c = client(**vm, "4a1b2c3d-0000-4000-8000-0000000000d1");
  ASSERT_TRUE(c);
  auto st = c->enroll();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().reason, "ek-certificate-untrusted") << st.error().message;
}

TEST_F(AttestationE2E, QuoteOverASubsetOfThePcrsIsRefused) {
  auto o = options(*vm_a_, kVmA, svc_->base_url());
  o.quote_pcrs = {0, 1, 2, 3};
  auto c = client(*vm_a_, kVmA, &o);
  ASSERT_TRUE(c);
  ensure_enrolled(*c);
  expect_problem(post("/attest", good_evidence(*c, kVmA)), 403, "quote-pcr-selection");
}

// The recorded log's first boot application (shim) is event 23.
struct LogEdit {
  const char* name;
  std::function<void(Bytes&, const eventlog::Event&)> edit;
  const char* reason;
};

TEST_F(AttestationE2E, EventLogEditedAfterTheFactIsRefused) {
  auto c = client(*vm_a_, kVmA);
  ASSERT_TRUE(c);
  ensure_enrolled(*c);
  const LogEdit edits[] = {
      {"one byte of a boot-app digest",
       [](Bytes& log, const eventlog::Event& e) { log[e.offset + 14] ^= 0x01; },  // pcr,type,count,alg: 14 bytes
       "eventlog-replay-mismatch"},
      {"the boot-app event retyped as EV_EFI_ACTION",
       [](Bytes& log, const eventlog::Event& e) {
         const uint32_t t = 0x80000007;  // EV_EFI_ACTION, little-endian
         for (int i = 0; i < 4; ++i) log[e.offset + 4 + i] = static_cast<uint8_t>(t >> (8 * i));
       },
       "eventlog-check-failed"},
      {"a forged boot application appended",
       [](Bytes& log, const eventlog::Event&) {
         Bytes ev = {4, 0, 0, 0, 0x03, 0, 0, 0x80, 1, 0, 0, 0, 0x0b, 0x00};  // PCR 4, EV_..._APPLICATION, 1 digest, sha256
         ev.insert(ev.end(), 32, 0xab);
         ev.insert(ev.end(), {4, 0, 0, 0, 'e', 'v', 'i', 'l'});
         log.insert(log.end(), ev.begin(), ev.end());
       },
       "eventlog-replay-mismatch"},
  };
  auto parsed = eventlog::ParsedLog::parse(read_file(boot_log_path()));
  ASSERT_TRUE(parsed.ok());
  const eventlog::Event& shim = parsed->events().at(23);
  ASSERT_EQ(shim.type, 0x80000003u);
  for (const auto& edit : edits) {
    SCOPED_TRACE(edit.name);
    json ev = good_evidence(*c, kVmA);
    Bytes log = *token::base64url_decode(ev["eventLog"].get<std::string>());
    edit.edit(log, shim);
    ev["eventLog"] = token::base64url_encode(log);
    expect_problem(post("/attest", ev), 403, edit.reason);
  }
}

TEST_F(AttestationE2E, Sha1OnlyEvidenceIsRefusedWhenSha256IsRequired) {
  auto vm = start_vm_tpm(*ca_, root_->path() / "vm-e", boot_log_path(), "sha1,sha256");
  ASSERT_TRUE(vm.ok()) << vm.error().message;
  const std::string vm_id = "4a1b2c3d-0000-4000-8000-0000000000e1";
  auto c = client(**vm, vm_id);
  ASSERT_TRUE(c);
  ensure_enrolled(*c);
  const Bytes n = challenge(vm_id);
  auto ev = c->collect_evidence(n);
  ASSERT_TRUE(ev.ok());
  const crypto::HashAlg sha1[] = {crypto::HashAlg::sha1};
  const uint32_t pcrs[] = {0, 1, 2, 3, 4, 5, 6, 7};
  auto q = c->tpm().quote(n, sha1, pcrs);
  ASSERT_TRUE(q.ok()) << q.error().message;
  (*ev)["quote"]["attest"] = token::base64url_encode(q->attest);
  (*ev)["quote"]["signature"] = token::base64url_encode(q->signature);
  json sha1_pcrs = json::object();
  for (const auto& [i, v] : q->pcrs.at(crypto::HashAlg::sha1)) sha1_pcrs[std::to_string(i)] = to_hex(v);
  (*ev)["pcrs"] = json{{"sha1", sha1_pcrs}};
  expect_problem(post("/attest", *ev), 403, "sha256-bank-required");
}

TEST_F(AttestationE2E, AkThatIsNotARestrictedSigningKeyIsRefused) {
  // A real unrestricted signing key, made in VM A's TPM with tpm2-tools.
  auto out = vm_a_->run(
      "tpm2_createprimary -C o -g sha256 -G rsa -c prim.ctx >/dev/null && "
      "tpm2_create -C prim.ctx -G rsa2048 -a 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign' "
      "-u loose.pub -r loose.priv >/dev/null");
  ASSERT_TRUE(out.ok()) << out.error().message;
  Bytes pub = vm_a_->read("loose.pub");  // TPM2B_PUBLIC
  auto c = client(*vm_a_, kVmA);
  ASSERT_TRUE(c);
  auto ek = c->tpm().endorsement_key();
  ASSERT_TRUE(ek.ok());
  json req = {{"vmId", "4a1b2c3d-0000-4000-8000-0000000000f1"},
              {"ekPublic", token::base64url_encode(ek->public_area)},
              {"akPublic", token::base64url_encode(pub)}};
  if (ek->certificate) req["ekCertificate"] = token::base64url_encode(*ek->certificate);
  expect_problem(post("/enroll", req), 403, "ak-not-restricted-signing");
}

// The operators' stateless appraisal: same pipeline, no challenge, no token.
TEST_F(AttestationE2E, AppraisalAnswersWithTheResultAndClaimsWithoutAToken) {
  auto c = client(*vm_a_, kVmA);
  ASSERT_TRUE(c);
  ensure_enrolled(*c);
  const Bytes nonce = *from_hex("0123456789abcdef0123456789abcdef");  // any nonce the operator chose
  auto ev = c->collect_evidence(nonce);
  ASSERT_TRUE(ev.ok()) << ev.error().message;
  auto r = post("/appraise", json{{"evidence", *ev}, {"nonce", token::base64url_encode(nonce)}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json::parse(r.body);
  EXPECT_EQ(j["result"], "pass");
  EXPECT_EQ(j["akTrust"], "enrolled");
  EXPECT_EQ(j["claims"]["secureboot"], true);
  EXPECT_FALSE(j.contains("token"));
  // The same evidence appraised twice: no single-use state is consumed.
  EXPECT_EQ(json::parse(post("/appraise", json{{"evidence", *ev}, {"nonce", token::base64url_encode(nonce)}}).body)["result"],
            "pass");
  // Another nonce: a failed result with the reason, still 200.
  auto bad = post("/appraise", json{{"evidence", *ev}, {"nonce", token::base64url_encode(Bytes(16, 7))}});
  ASSERT_EQ(bad.status, 200) << bad.body;
  auto b = json::parse(bad.body);
  EXPECT_EQ(b["result"], "fail");
  EXPECT_EQ(b["reason"], "quote-nonce");
  EXPECT_EQ(b["type"], "urn:trustlaunch:problem:quote-nonce");
  // The quote is right but the evidence's own nonce member says otherwise.
  json confused = *ev;
  confused["nonce"] = token::base64url_encode(Bytes(16, 7));
  auto cb = json::parse(post("/appraise", json{{"evidence", confused}, {"nonce", token::base64url_encode(nonce)}}).body);
  EXPECT_EQ(cb["reason"], "evidence-nonce-mismatch") << cb.dump();
  // A VM nobody enrolled: checked under the AK the evidence names, and said so.
  json stranger = *ev;
  stranger["vmId"] = "not-enrolled-anywhere";
  auto s2 = post("/appraise", json{{"evidence", stranger}, {"nonce", token::base64url_encode(nonce)}});
  ASSERT_EQ(s2.status, 200) << s2.body;
  EXPECT_EQ(json::parse(s2.body)["akTrust"], "evidence");
  EXPECT_EQ(json::parse(s2.body)["result"], "pass");
  // A malformed request is a problem, not a result.
  expect_problem(post("/appraise", json{{"evidence", *ev}}), 400, "request-malformed");
}

// The agent reads the Guest Attestation settings JSON; a wrongly cased key is
// an error that names it.
TEST_F(AttestationE2E, AgentUsesTheGuestAttestationSettingsAndNamesAMisspelledKey) {
  const fs::path good = root_->path() / "settings.json";
  std::ofstream(good) << R"({"AttestationConfig":{"MaaSettings":{"maaEndpoint":")" << svc_->base_url()
                      << R"(","maaTenantName":"lab"},"AscSettings":{"ascReportingEndpoint":"","ascReportingFrequency":"4H"},)"
                      << R"("useCustomToken":"false","disableAlerts":"false","isAzureStack":"false"}})";
  const std::string common = " --tcti " + shell_quote(vm_a_->tcti()) + " --vm-id " + kVmA + " --eventlog " +
                             shell_quote(boot_log_path().string()) + " --state-dir " +
                             shell_quote((root_->path() / "agent-settings").string());
  auto ok = run_agent("attest --once --settings " + shell_quote(good.string()) + common);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(std::count(ok->begin(), ok->end(), '.'), 2) << *ok;  // a JWS
  const fs::path bad = root_->path() / "settings-bad.json";
  std::ofstream(bad) << R"({"AttestationConfig":{"MaaSettings":{"MaaEndpoint":")" << svc_->base_url() << R"("}}})";
  auto refused = run_agent("attest --once --settings " + shell_quote(bad.string()) + common);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("AttestationConfig.MaaSettings.MaaEndpoint"), std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("maaEndpoint"), std::string::npos);
}

// The service loop: attests at start, writes status and heartbeat; against a
// dead endpoint it backs off and records the error; SIGTERM stops it.
TEST_F(AttestationE2E, AgentLoopWritesStatusAndBacksOffWhenTheServiceIsDown) {
  const fs::path state = root_->path() / "agent-loop";
  const std::string common = " --tcti " + shell_quote(vm_a_->tcti()) + " --vm-id " + kVmA + " --eventlog " +
                             shell_quote(boot_log_path().string()) + " --state-dir " + shell_quote(state.string());
  // Up: one attestation, then it waits (the period is 8 h); stopped after 4 s.
  auto up = sh("timeout -s TERM 4 " + (build_dir() / "tlaunch-agent").string() + " run --endpoint " +
               svc_->base_url() + common + "; rc=$?; test $rc -eq 0 -o $rc -eq 124");
  ASSERT_TRUE(up.ok()) << up.error().message;
  auto status = json::parse(read_text(state / "status.json"));
  EXPECT_FALSE(status["lastSuccessTime"].is_null()) << status.dump();
  EXPECT_TRUE(status["lastError"].is_null());
  EXPECT_EQ(status["consecutiveFailures"], 0);
  EXPECT_FALSE(status["tokenExpiry"].is_null());
  auto beat = json::parse(read_text(state / "heartbeat.json"));
  EXPECT_EQ(beat["state"], "stopping");  // SIGTERM was handled
  // Down: a port nobody listens on. Attempts back off (5 s, 10 s …, each
  // jittered down to half), so in 4 s there are one or two failures, recorded
  // with their reason: no tight loop.
  auto down = sh("timeout -s TERM 4 " + (build_dir() / "tlaunch-agent").string() +
                 " run --endpoint http://127.0.0.1:1" + common + "; true");
  ASSERT_TRUE(down.ok());
  status = json::parse(read_text(state / "status.json"));
  ASSERT_TRUE(status["lastError"].is_object()) << status.dump();
  EXPECT_EQ(status["lastError"]["reason"], "network");
  // The first retry comes 2.5–5 s after the first failure: at most two attempts.
  EXPECT_GE(status["consecutiveFailures"].get<int>(), 1);
  EXPECT_LE(status["consecutiveFailures"].get<int>(), 2);
  EXPECT_FALSE(status["lastSuccessTime"].is_null());  // kept from before
  auto report = run_agent("status --state-dir " + shell_quote(state.string()));
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_NE(report->find("network"), std::string::npos) << *report;
}

// `tlaunchd rotate-signing-key` on the database of a running service: within
// the reload interval /certs has both keys and new tokens use the new one.
TEST_F(AttestationE2E, SigningKeyRotationByCommandReachesTheRunningService) {
  auto hc = http::Client::create(svc_->base_url());
  ASSERT_TRUE(hc.ok());
  const auto before = json::parse((*hc)->get("/certs")->body)["keys"];
  auto rotated = sh((build_dir() / "tlaunchd").string() + " rotate-signing-key --db " +
                    shell_quote((root_->path() / "svc/tlaunchd.db").string()));
  ASSERT_TRUE(rotated.ok()) << rotated.error().message;
  std::this_thread::sleep_for(std::chrono::seconds(11));  // TokenIssuer::kReloadSeconds + 1
  const auto after = json::parse((*hc)->get("/certs")->body)["keys"];
  ASSERT_EQ(after.size(), before.size() + 1) << after.dump();
  auto c = client(*vm_a_, kVmA);
  ASSERT_TRUE(c);
  auto r = c->attest();
  ASSERT_TRUE(r.ok()) << r.error().message;
  json v = check_token(svc_->base_url(), r->token);
  const std::string kid = v["header"]["kid"];
  bool is_new = true;
  for (const auto& k : before) is_new &= k["kid"] != kid;
  EXPECT_TRUE(is_new) << "token signed with an old key: " << kid;
}

TEST_F(AttestationE2E, DiscoveryHealthAndMetricsAreServed) {
  auto hc = http::Client::create(svc_->base_url());
  ASSERT_TRUE(hc.ok());
  auto d = (*hc)->get("/.well-known/openid-configuration");
  ASSERT_TRUE(d.ok());
  auto conf = json::parse(d->body);
  EXPECT_EQ(conf["jwks_uri"], svc_->base_url() + "/certs");
  EXPECT_EQ(conf["id_token_signing_alg_values_supported"], json::array({"ES256"}));
  auto h = (*hc)->get("/healthz");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->status, 200);
  auto m = (*hc)->get("/metrics");
  ASSERT_TRUE(m.ok());
  EXPECT_NE(m->body.find("tlaunchd_http_requests_total{route=\"/.well-known/openid-configuration\",method=\"GET\",code=\"200\"}"),
            std::string::npos) << m->body;
  expect_problem(*(*hc)->get("/nope"), 404, "not-found");
  expect_problem(*(*hc)->get("/attest"), 405, "method-not-allowed");
  auto bad = (*hc)->request("POST", "/attest", "{}", http::Headers{{"Content-Type", "text/plain"}});
  ASSERT_TRUE(bad.ok());
  expect_problem(*bad, 415, "unsupported-media-type");
  auto junk = (*hc)->post_json("/attest", "{\"version\":1");
  ASSERT_TRUE(junk.ok());
  expect_problem(*junk, 400, "request-malformed");
  // Hostile bodies are refused before anything reads them: deep nesting
  // (a stack-overflow attempt), duplicate members, invalid UTF-8.
  std::string deep = "{\"clientPayload\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto nested = (*hc)->post_json("/attest", deep);
  ASSERT_TRUE(nested.ok());
  expect_problem(*nested, 400, "request-malformed");
  auto dup = (*hc)->post_json("/challenge", "{\"vmId\":\"a\",\"vmId\":\"b\"}");
  ASSERT_TRUE(dup.ok());
  expect_problem(*dup, 400, "request-malformed");
  auto bad_utf8 = (*hc)->post_json("/challenge", "{\"vmId\":\"\xff\xfe\"}");
  ASSERT_TRUE(bad_utf8.ok());
  expect_problem(*bad_utf8, 400, "request-malformed");
  // The server is still there.
  EXPECT_EQ((*hc)->get("/healthz")->status, 200);
}

}  // namespace
}  // namespace tl::test
