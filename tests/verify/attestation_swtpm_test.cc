// The whole pipeline against a real TPM: swtpm's PCRs are extended with the
// digests of the real OVMF Secure Boot log (shared/vectors/ovmf-secureboot), an AK
// quotes them, a PCR-policy-bound runtime key is certified by the AK, all with
// tpm2-tools. The good evidence verifies with the right claims; every forgery
// is refused with its own reason.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/hex.h"
#include "eventlog/event.h"
#include "eventlog/parsed_log.h"
#include "support/test_support.h"
#include "tpm/swtpm.h"
#include "token/base64url.h"
#include "tpm/pcr_file.h"
#include "tpm/public_area.h"
#include "verify/attestation.h"
#include "verify/evidence.h"

namespace tl::verify {
namespace {

using crypto::HashAlg;
using ::testing::HasSubstr;

constexpr const char* kVmId = "7c1e9a52-0d3b-4f6e-8a21-5b9c3d2e1f00";
constexpr const char* kNonceHex = "c0ffee000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c";
constexpr const char* kOtherNonceHex = "badbad000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c";
constexpr const char* kAkAttrs = "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign";
constexpr const char* kRkAttrs = "fixedtpm|fixedparent|sensitivedataorigin|decrypt";
constexpr const char* kQuoted = "sha256:0,1,2,3,4,5,6,7,8,9,14";
constexpr const char* kPolicyPcrs = "sha256:0,1,2,3,4,5,6,7";

struct Quote {
  Bytes attest, signature;
  tpm::PcrValues pcrs;
};

struct Certify {
  Bytes attest, signature;
};

class AttestationSwtpm : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto log_path = test::vector_path("ovmf-secureboot/eventlog_sb_debian_chain.bin");
    if (log_path.empty()) return;  // each test skips
    log_ = test::read_file(log_path);
    auto s = test::Swtpm::start();
    if (!s) return fail_setup(s.error().message);
    tpm_ = std::move(*s);

    // Replay the real log into the TPM, event by event, as the firmware did.
    auto parsed = eventlog::ParsedLog::parse(log_);
    if (!parsed) return fail_setup(parsed.error().message);
    if (parsed->startup_locality() != 0) return fail_setup("log needs a non-zero startup locality");
    std::string cmd;
    for (const eventlog::Event& e : parsed->events()) {
      if (e.type == eventlog::EV_NO_ACTION) continue;
      const ByteView d = e.digest(HashAlg::sha256);
      if (d.empty()) return fail_setup("event without a sha256 digest");
      cmd += (cmd.empty() ? "" : " ") + std::to_string(e.pcr) + ":sha256=" + to_hex(d);
    }
    if (auto r = tpm_->run("tpm2_pcrextend " + cmd); !r) return fail_setup(r.error().message);

    if (auto r = tpm_->run("tpm2_createprimary -Q -C o -g sha256 -G rsa -c primary.ctx"); !r) {
      return fail_setup(r.error().message);
    }
    for (const char* ak : {"ak", "ak2"}) {
      if (auto r = make_key(ak, "rsa2048:rsassa-sha256:null", kAkAttrs); !r) return fail_setup(r.error().message);
    }
    // Unrestricted: TPM2_Quote signs with it, but it would sign anything.
    if (auto r = make_key("unres", "rsa2048:rsassa-sha256:null",
                          "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign");
        !r) {
      return fail_setup(r.error().message);
    }
    // Runtime keys: bound to the TPM's PCRs 0-7; one with userWithAuth; one
    // bound to other PCR values.
    if (auto r = policy("rk.policy", ""); !r) return fail_setup(r.error().message);
    Bytes other(8 * 32, 0x11);
    tpm_->write("other.pcrvalues", other);
    if (auto r = policy("other.policy", "-f other.pcrvalues"); !r) return fail_setup(r.error().message);
    if (auto r = make_key("rk", "rsa2048", kRkAttrs, "rk.policy"); !r) return fail_setup(r.error().message);
    if (auto r = make_key("rk_uwa", "rsa2048", std::string(kRkAttrs) + "|userwithauth", "rk.policy"); !r) {
      return fail_setup(r.error().message);
    }
    if (auto r = make_key("rk_other", "rsa2048", kRkAttrs, "other.policy"); !r) return fail_setup(r.error().message);
    for (const auto& [name, handle] : handles()) {
      char h[16];
      std::snprintf(h, sizeof h, "0x%08x", handle);
      if (auto r = tpm_->run("tpm2_evictcontrol -Q -C o -c " + name + ".ctx " + h); !r) {
        return fail_setup(r.error().message);
      }
    }
  }
  static void TearDownTestSuite() {
    tpm_.reset();
    setup_error_.reset();
  }
  void SetUp() override {
    if (log_.empty()) GTEST_SKIP() << "ovmf-secureboot vectors not found (set TL_SHARED_DIR)";
    if (setup_error_) FAIL() << "swtpm setup: " << *setup_error_;
  }

  static void fail_setup(const std::string& m) {
    if (!setup_error_) setup_error_ = m;
  }
  static Result<std::string> policy(const std::string& out, const std::string& extra) {
    // Trial sessions stay loaded otherwise, and swtpm has only three slots.
    return tpm_->run("tpm2_createpolicy -Q --policy-pcr -l " + std::string(kPolicyPcrs) + " " + extra + " -L " +
                     out + "; rc=$?; tpm2_flushcontext -l >/dev/null 2>&1; (exit $rc)");
  }
  static Result<std::string> make_key(const std::string& name, const std::string& alg, const std::string& attrs,
                                      const std::string& policy_file = "") {
    return tpm_->run("tpm2_create -Q -C primary.ctx -G " + alg + " -a '" + attrs + "'" +
                     (policy_file.empty() ? "" : " -L " + policy_file) + " -u " + name + ".pub -r " + name +
                     ".priv && tpm2_flushcontext -t && tpm2_load -Q -C primary.ctx -u " + name + ".pub -r " +
                     name + ".priv -c " + name + ".ctx");
  }

  // TPMT_PUBLIC of a key (tpm2_create writes TPM2B_PUBLIC).
  static Bytes tpmt(const std::string& key) {
    auto a = tpm::parse_tpm2b_public(tpm_->read(key + ".pub"));
    EXPECT_TRUE(a.ok()) << a.error().message;
    return a.ok() ? a->marshaled : Bytes{};
  }
  static Quote quote(const std::string& key, const std::string& sel, const char* nonce = kNonceHex) {
    auto r = tpm_->run("tpm2_quote -Q -c " + key + ".ctx -l " + sel + " -q " + nonce +
                       " -m q.msg -s q.sig -o q.pcrs -g sha256");
    EXPECT_TRUE(r.ok()) << r.error().message;
    Quote q{tpm_->read("q.msg"), tpm_->read("q.sig"), {}};
    auto p = tpm::parse_pcr_file(tpm_->read("q.pcrs"));
    EXPECT_TRUE(p.ok()) << p.error().message;
    if (p) q.pcrs = *p;
    return q;
  }
  // TPM2_Certify of `key` by `signer` (persistent handles, see SetUpTestSuite)
  // with qualifyingData = nonce. tpm2_certify 5.4 has no option for the
  // qualifying data, so the command goes to the TPM as bytes through tpm2_send
  // (TPM 2.0 Part 3, 18.2), with empty-password sessions for both handles.
  static Certify certify(const std::string& key, const std::string& signer, const char* nonce_hex = kNonceHex) {
    const Bytes n = *from_hex(nonce_hex);
    Bytes c;
    auto u16 = [&](uint32_t v) {
      c.push_back(static_cast<uint8_t>(v >> 8));
      c.push_back(static_cast<uint8_t>(v));
    };
    auto u32 = [&](uint32_t v) {
      u16(v >> 16);
      u16(v & 0xffff);
    };
    u16(0x8002);  // TPM_ST_SESSIONS
    u32(0);       // commandSize, patched below
    u32(0x148);   // TPM_CC_Certify
    u32(handles().at(key));
    u32(handles().at(signer));
    u32(18);  // two TPMS_AUTH_COMMANDs of TPM_RS_PW, empty nonce and password
    for (int i = 0; i < 2; ++i) {
      u32(0x40000009);
      u16(0);
      c.push_back(0);
      u16(0);
    }
    u16(static_cast<uint32_t>(n.size()));
    c.insert(c.end(), n.begin(), n.end());
    u16(0x0010);  // inScheme TPM_ALG_NULL: the AK's own scheme
    const auto size = static_cast<uint32_t>(c.size());
    for (int i = 0; i < 4; ++i) c[2 + static_cast<size_t>(i)] = static_cast<uint8_t>(size >> (24 - 8 * i));
    tpm_->write("certify.cmd", c);
    auto r = tpm_->run("tpm2_send -o certify.rsp certify.cmd");
    EXPECT_TRUE(r.ok()) << r.error().message;
    const Bytes rsp = tpm_->read("certify.rsp");
    auto be = [&](size_t at, int bytes) {
      uint32_t v = 0;
      for (int i = 0; i < bytes; ++i) v = (v << 8) | rsp.at(at + static_cast<size_t>(i));
      return v;
    };
    if (rsp.size() < 16 || be(6, 4) != 0) {
      ADD_FAILURE() << "TPM2_Certify failed: " << to_hex(rsp);
      return {};
    }
    const uint32_t params = be(10, 4);
    const uint32_t attest_size = be(14, 2);
    const size_t attest_at = 16, sig_at = attest_at + attest_size;
    const size_t sig_end = 14 + params;
    return Certify{Bytes(rsp.begin() + attest_at, rsp.begin() + static_cast<std::ptrdiff_t>(sig_at)),
                   Bytes(rsp.begin() + static_cast<std::ptrdiff_t>(sig_at),
                         rsp.begin() + static_cast<std::ptrdiff_t>(sig_end))};
  }
  static const std::map<std::string, uint32_t>& handles() {
    static const std::map<std::string, uint32_t> h = {
        {"ak", 0x81000001}, {"ak2", 0x81000002}, {"rk", 0x81000003}, {"rk_uwa", 0x81000004}, {"rk_other", 0x81000005}};
    return h;
  }
  static Bytes nonce() { return *from_hex(kNonceHex); }

  // Evidence as the agent would send it: real quote, real log, certified key.
  static Evidence good_evidence() {
    if (!good_) {
      Evidence e;
      e.vm_id = kVmId;
      e.nonce = nonce();
      Quote q = quote("ak", kQuoted);
      e.quote_attest = q.attest;
      e.quote_signature = q.signature;
      e.pcrs = q.pcrs;
      e.event_log = log_;
      e.ak_public = tpmt("ak");
      Certify c = certify("rk", "ak");
      e.runtime_key = RuntimeKeyEvidence{tpmt("rk"), c.attest, c.signature, {0, 1, 2, 3, 4, 5, 6, 7}};
      e.client_payload = {{"purpose", "test"}};
      e.os = OsInfo{"Linux", "Debian GNU/Linux", 12, 0, ""};
      good_ = e;
    }
    return *good_;
  }
  static EnrolledIdentity identity(const std::string& ak = "ak") {
    return EnrolledIdentity{kVmId, tpmt(ak), true};
  }
  static Result<VerifiedAttestation> verify(const Evidence& e, const EnrolledIdentity& id,
                                            const AppraisalPolicy& p = {}) {
    return verify_attestation(e, id, nonce(), p);
  }
  static Result<VerifiedAttestation> verify(const Evidence& e) { return verify(e, identity()); }

  static void expect_refused(const Result<VerifiedAttestation>& r, const std::string& reason,
                             const std::string& text) {
    ASSERT_FALSE(r.ok()) << "accepted; expected " << reason;
    EXPECT_EQ(r.error().reason, reason) << r.error().message;
    EXPECT_THAT(r.error().message, HasSubstr(text));
  }

  // Byte offset of event `index` in the log.
  static size_t event_offset(const Bytes& log, uint32_t index) {
    auto p = eventlog::ParsedLog::parse(log);
    EXPECT_TRUE(p.ok());
    return p.ok() ? p->events().at(index).offset : 0;
  }
  static void patch_u32_le(Bytes& b, size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
  }
  // A crypto-agile TCG_PCR_EVENT2 with one sha256 digest.
  static Bytes event2(uint32_t pcr, uint32_t type, ByteView digest, ByteView data) {
    Bytes b(12, 0);
    patch_u32_le(b, 0, pcr);
    patch_u32_le(b, 4, type);
    patch_u32_le(b, 8, 1);
    b.push_back(0x0b);  // TPM_ALG_SHA256, little-endian
    b.push_back(0x00);
    b.insert(b.end(), digest.begin(), digest.end());
    Bytes size(4, 0);
    patch_u32_le(size, 0, static_cast<uint32_t>(data.size()));
    b.insert(b.end(), size.begin(), size.end());
    b.insert(b.end(), data.begin(), data.end());
    return b;
  }
  // Index of the first event of `type` on `pcr`.
  static uint32_t find_event(uint32_t pcr, uint32_t type) {
    auto p = eventlog::ParsedLog::parse(log_);
    EXPECT_TRUE(p.ok());
    for (const auto& e : p->events())
      if (e.pcr == pcr && e.type == type) return e.index;
    ADD_FAILURE() << "no such event";
    return 0;
  }

  static inline std::unique_ptr<test::Swtpm> tpm_;
  static inline std::optional<std::string> setup_error_;
  static inline Bytes log_;
  static inline std::optional<Evidence> good_;
};

TEST_F(AttestationSwtpm, GoodEvidenceVerifiesWithItsClaims) {
  const Evidence e = good_evidence();
  // Through the wire format, as the service receives it.
  auto decoded = decode_evidence_text(encode_evidence(e).dump());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  if (const char* out = std::getenv("TL_WRITE_EVIDENCE_SEED")) {
    std::ofstream(out) << encode_evidence(e).dump();
  }
  auto v = verify(*decoded);
  ASSERT_TRUE(v.ok()) << v.error().reason << ": " << v.error().message;
  const nlohmann::json& c = v->claims();

  EXPECT_EQ(c.at("x-ms-ver"), "1.0");
  EXPECT_EQ(c.at("x-ms-attestation-type"), "azurevm");
  EXPECT_EQ(c.at("secureboot"), true);
  EXPECT_EQ(c.at("x-ms-azurevm-attested-pcrs"), nlohmann::json({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 14}));
  EXPECT_EQ(c.at("x-ms-azurevm-bootdebug-enabled"), false);
  EXPECT_EQ(c.at("x-ms-azurevm-kerneldebug-enabled"), false);
  EXPECT_EQ(c.at("x-ms-azurevm-vmid"), kVmId);
  EXPECT_EQ(c.at("x-ms-azurevm-ostype"), "Linux");
  EXPECT_EQ(c.at("x-ms-azurevm-osdistro"), "Debian GNU/Linux");
  EXPECT_EQ(c.at("x-ms-azurevm-osversion-major"), 12);
  EXPECT_EQ(c.at("x-tl-ek-cert-validated"), true);
  EXPECT_EQ(c.at("x-ms-runtime").at("client-payload"), nlohmann::json({{"purpose", "test"}}));

  // PCR values are the TPM's own, as tpm2_pcrread reports them.
  auto yaml = tpm_->run(std::string("tpm2_pcrread ") + kQuoted);
  ASSERT_TRUE(yaml.ok());
  auto read = tpm::parse_pcr_file(as_bytes(*yaml));
  ASSERT_TRUE(read.ok());
  for (const auto& [pcr, value] : read->at(HashAlg::sha256)) {
    EXPECT_EQ(c.at("x-tl-pcrs").at("sha256").at(std::to_string(pcr)), to_hex(value)) << pcr;
  }

  // Boot applications: the digests of the log's PCR 4 application events.
  auto parsed = eventlog::ParsedLog::parse(log_);
  ASSERT_TRUE(parsed.ok());
  std::vector<std::string> expected_apps;
  for (const auto& ev : parsed->events()) {
    if (ev.pcr == 4 && ev.type == eventlog::EV_EFI_BOOT_SERVICES_APPLICATION) {
      expected_apps.push_back(to_hex(ev.digest(HashAlg::sha256)));
    }
  }
  const auto& apps = c.at("x-tl-boot-apps");
  ASSERT_EQ(apps.size(), expected_apps.size());
  ASSERT_EQ(apps.size(), 4u);  // shim, grub, the kernel (measured twice: shim and the EFI stub)
  for (size_t i = 0; i < apps.size(); ++i) {
    EXPECT_EQ(apps[i].at("sha256"), expected_apps[i]);
    EXPECT_EQ(apps[i].at("pcr"), 4);
  }
  EXPECT_THAT(apps[0].at("devicePath").get<std::string>(), HasSubstr("\\EFI\\BOOT\\BOOTX64.EFI"));

  // The Linux boot as GRUB measured it. The kernel is booted as /vmlinuz (a
  // symlink name): its version (6.1.0-…, printed on the console) is not in the
  // log, so the claim is honestly null.
  EXPECT_EQ(c.at("x-tl-kernel-cmdline"), "/vmlinuz console=ttyS0,115200 quiet loglevel=4 panic=-1");
  EXPECT_TRUE(c.at("x-tl-kernel-version").is_null());
  EXPECT_THAT(c.at("x-tl-sbat-level").get<std::string>(), HasSubstr("sbat,1,"));
  bool uefi_ca = false;
  for (const auto& a : c.at("x-tl-secureboot-authorities")) {
    uefi_ca = uefi_ca || a.at("subject").get<std::string>().find("Microsoft Corporation UEFI CA 2011") != std::string::npos;
  }
  EXPECT_TRUE(uefi_ca) << c.at("x-tl-secureboot-authorities").dump();

  // db is Microsoft's two 2011 CAs; KEK adds Debian's own key to Microsoft's, so
  // the keys are not exactly the defaults; dbx is OVMF's one placeholder entry
  // and revokes nothing that booted.
  EXPECT_EQ(c.at("x-ms-azurevm-dbvalidated"), true);
  EXPECT_EQ(c.at("x-ms-azurevm-default-securebootkeysvalidated"), false);
  EXPECT_EQ(c.at("x-ms-azurevm-dbxvalidated"), true);

  // The runtime key's JWK is the TPM's key, as tpm2_readpublic exports it.
  ASSERT_TRUE(v->runtime_key().has_value());
  const auto& keys = c.at("x-ms-runtime").at("keys");
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0], v->runtime_key()->jwk());
  EXPECT_EQ(keys[0].at("kid"), "TpmEphemeralEncryptionKey");
  EXPECT_EQ(keys[0].at("kty"), "RSA");
  EXPECT_EQ(keys[0].at("key_ops"), nlohmann::json({"encrypt"}));
  EXPECT_EQ(keys[0].at("e"), "AQAB");
  auto pem = tpm_->run("tpm2_readpublic -Q -c rk.ctx -f pem -o rk.pem");
  ASSERT_TRUE(pem.ok()) << pem.error().message;
  const Bytes pem_bytes = tpm_->read("rk.pem");
  auto tpm_key = crypto::PublicKey::from_pem(std::string(pem_bytes.begin(), pem_bytes.end()));
  ASSERT_TRUE(tpm_key.ok());
  auto n = token::base64url_decode(keys[0].at("n").get<std::string>());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->size(), 256u);
  auto jwk_key = crypto::PublicKey::from_rsa(*n, 65537);
  ASSERT_TRUE(jwk_key.ok());
  EXPECT_TRUE(*jwk_key == *tpm_key);
}

TEST_F(AttestationSwtpm, SecureBootReferenceDecidesTheValidatedClaims) {
  AppraisalPolicy p;
  // With Debian's PK/KEK certificate in the reference, KEK and db are exactly reference keys.
  p.secure_boot.default_kek_fingerprints.push_back(
      "5fb05ed84c5170d542ed6a7b7487dd57b8faedb02f7e107b0409e1d22cac4169");
  auto v = verify(good_evidence(), identity(), p);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->claims().at("x-ms-azurevm-default-securebootkeysvalidated"), true);

  // A db reference without the UEFI CA: db no longer validates, nor do the keys.
  p.secure_boot.default_db_fingerprints = {"e8e95f0733a55e8bad7be0a1413ee23c51fcea64b3c8fa6a786935fddcc71961"};
  v = verify(good_evidence(), identity(), p);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->claims().at("x-ms-azurevm-dbvalidated"), false);
  EXPECT_EQ(v->claims().at("x-ms-azurevm-default-securebootkeysvalidated"), false);

  // dbx against required hashes: the one it has, then one it lacks.
  p = AppraisalPolicy{};
  p.secure_boot.required_dbx_hashes = {"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"};
  v = verify(good_evidence(), identity(), p);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->claims().at("x-ms-azurevm-dbxvalidated"), true);
  p.secure_boot.required_dbx_hashes.push_back(std::string(64, '1'));
  v = verify(good_evidence(), identity(), p);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->claims().at("x-ms-azurevm-dbxvalidated"), false);
}

TEST_F(AttestationSwtpm, WrongNonce) {
  auto r = verify_attestation(good_evidence(), identity(), *from_hex(kOtherNonceHex), AppraisalPolicy{});
  expect_refused(r, "quote-nonce", "does not equal the expected nonce");
  // A quote made for another challenge, presented with the expected one.
  Evidence e = good_evidence();
  Quote q = quote("ak", kQuoted, kOtherNonceHex);
  e.quote_attest = q.attest;
  e.quote_signature = q.signature;
  expect_refused(verify(e), "quote-nonce", "does not equal the expected nonce");
  // The quote is right, the evidence's own nonce member is not.
  e = good_evidence();
  e.nonce = *from_hex(kOtherNonceHex);
  expect_refused(verify(e), "evidence-nonce-mismatch", "is not the expected challenge");
}

TEST_F(AttestationSwtpm, QuoteOverASubsetOfThePcrs) {
  Evidence e = good_evidence();
  Quote q = quote("ak", "sha256:0,1,2,3");
  e.quote_attest = q.attest;
  e.quote_signature = q.signature;
  e.pcrs = q.pcrs;
  expect_refused(verify(e), "quote-pcr-selection", "PCR 4");
}

TEST_F(AttestationSwtpm, PcrValuesNotTheQuotedOnes) {
  Evidence e = good_evidence();
  e.pcrs[HashAlg::sha256][7][0] ^= 1;
  expect_refused(verify(e), "quote-pcr-digest", "");
}

TEST_F(AttestationSwtpm, VmIdMismatch) {
  EnrolledIdentity id = identity();
  id.vm_id = "another-vm";
  expect_refused(verify(good_evidence(), id), "vm-id-mismatch", "another-vm");
}

TEST_F(AttestationSwtpm, AkMismatch) {
  Evidence e = good_evidence();
  e.ak_public = tpmt("ak2");  // the agent says it used another AK than the enrolled one
  expect_refused(verify(e), "ak-mismatch", "not the AK enrolled");
  // Without akPublic, a quote by another AK fails its signature under the enrolled AK.
  e = good_evidence();
  e.ak_public.reset();
  Quote q = quote("ak2", kQuoted);
  e.quote_attest = q.attest;
  e.quote_signature = q.signature;
  expect_refused(verify(e), "quote-signature", "does not verify");
}

TEST_F(AttestationSwtpm, AkNotRestricted) {
  Evidence e = good_evidence();
  Quote q = quote("unres", kQuoted);
  e.quote_attest = q.attest;
  e.quote_signature = q.signature;
  e.pcrs = q.pcrs;
  e.ak_public = tpmt("unres");
  expect_refused(verify(e, identity("unres")), "ak-not-restricted-signing", "restricted=0");
}

TEST_F(AttestationSwtpm, AkWithoutFixedParent) {
  // A restricted signing key that may be duplicated to another parent.
  // (The TPM requires fixedParent with fixedTPM, so both are clear.)
  ASSERT_TRUE(make_key("dupak", "rsa2048:rsassa-sha256:null", "sensitivedataorigin|userwithauth|restricted|sign")
                  .ok());
  Evidence e = good_evidence();
  e.ak_public.reset();
  expect_refused(verify(e, identity("dupak")), "ak-attributes", "fixedParent");
}

TEST_F(AttestationSwtpm, Sha1OnlyEvidence) {
  Evidence e = good_evidence();
  Quote q = quote("ak", "sha1:0,1,2,3,4,5,6,7,8,9,14");
  e.quote_attest = q.attest;
  e.quote_signature = q.signature;
  e.pcrs = q.pcrs;
  expect_refused(verify(e), "sha256-bank-required", "carries only sha1");
}

TEST_F(AttestationSwtpm, Sha1BankNotAllowed) {
  Evidence e = good_evidence();
  Quote q = quote("ak", std::string(kQuoted) + "+sha1:0,1,2,3,4,5,6,7");
  e.quote_attest = q.attest;
  e.quote_signature = q.signature;
  e.pcrs = q.pcrs;
  expect_refused(verify(e), "bank-not-allowed", "pcrs.sha1");
  // Allowed by the policy, the same evidence verifies.
  AppraisalPolicy p;
  p.allowed_banks.push_back(HashAlg::sha1);
  auto v = verify(e, identity(), p);
  EXPECT_TRUE(v.ok()) << v.error().message;
}

TEST_F(AttestationSwtpm, BootAppDigestByteEdited) {
  Evidence e = good_evidence();
  const uint32_t idx = find_event(4, eventlog::EV_EFI_BOOT_SERVICES_APPLICATION);
  const size_t at = event_offset(e.event_log, idx);
  e.event_log[at + 14] ^= 0x01;  // pcr, type, count (12) + algId (2): first digest byte
  expect_refused(verify(e), "eventlog-replay-mismatch", "bank sha256 PCR 4: quoted");
}

TEST_F(AttestationSwtpm, BootAppRetypedAsAction) {
  Evidence e = good_evidence();
  const uint32_t idx = find_event(4, eventlog::EV_EFI_BOOT_SERVICES_APPLICATION);
  patch_u32_le(e.event_log, event_offset(e.event_log, idx) + 4, eventlog::EV_EFI_ACTION);
  expect_refused(verify(e), "eventlog-check-failed", "event " + std::to_string(idx) + " (PCR 4");
}

TEST_F(AttestationSwtpm, SeparatorRetyped) {
  Evidence e = good_evidence();
  const uint32_t idx = find_event(4, eventlog::EV_SEPARATOR);
  patch_u32_le(e.event_log, event_offset(e.event_log, idx) + 4, eventlog::EV_EFI_ACTION);
  expect_refused(verify(e), "eventlog-check-failed", "carries a separator value");
}

TEST_F(AttestationSwtpm, SecureBootVariableRetyped) {
  // EV_EFI_VARIABLE_DRIVER_CONFIG SecureBoot → EV_EFI_VARIABLE_BOOT: replay holds,
  // the state would read "absent"; the check refuses the log instead.
  Evidence e = good_evidence();
  const uint32_t idx = find_event(7, eventlog::EV_EFI_VARIABLE_DRIVER_CONFIG);
  patch_u32_le(e.event_log, event_offset(e.event_log, idx) + 4, eventlog::EV_EFI_VARIABLE_BOOT);
  expect_refused(verify(e), "eventlog-check-failed", "event " + std::to_string(idx));
}

TEST_F(AttestationSwtpm, AppendedForgedEvent) {
  const Bytes digest(32, 0x66);
  // On a quoted PCR: the replay no longer matches.
  Evidence e = good_evidence();
  const Bytes forged = event2(4, eventlog::EV_EFI_BOOT_SERVICES_APPLICATION, digest, {});
  e.event_log.insert(e.event_log.end(), forged.begin(), forged.end());
  expect_refused(verify(e), "eventlog-replay-mismatch", "PCR 4");
  // On a PCR the quote does not cover (a systemd-style PCR 12 command line with
  // a kernel debugger): nothing vouches for it, so the log is refused.
  e = good_evidence();
  const std::string cmdline = "console=ttyS0 kgdboc=ttyS0";
  const Bytes forged12 = event2(12, eventlog::EV_IPL, digest, as_bytes(cmdline));
  e.event_log.insert(e.event_log.end(), forged12.begin(), forged12.end());
  expect_refused(verify(e), "eventlog-unquoted-pcr", "extends PCR 12");
}

TEST_F(AttestationSwtpm, MalformedEventLog) {
  Evidence e = good_evidence();
  ASSERT_GT(e.event_log.size(), 3u);
  e.event_log.erase(e.event_log.end() - 3, e.event_log.end());  // cut into the last event
  expect_refused(verify(e), "eventlog-malformed", "eventLog:");
}

TEST_F(AttestationSwtpm, RuntimeKeyMissing) {
  Evidence e = good_evidence();
  e.runtime_key.reset();
  expect_refused(verify(e), "runtime-key-missing", "runtimeKey is missing");
  AppraisalPolicy p;
  p.require_runtime_key = false;
  auto v = verify(e, identity(), p);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_FALSE(v->runtime_key().has_value());
  EXPECT_TRUE(v->claims().at("x-ms-runtime").at("keys").empty());
}

TEST_F(AttestationSwtpm, RuntimeKeyCertifiedWithAnotherNonce) {
  Evidence e = good_evidence();
  Certify c = certify("rk", "ak", kOtherNonceHex);
  e.runtime_key->certify_info = c.attest;
  e.runtime_key->signature = c.signature;
  expect_refused(verify(e), "runtime-key-certify", "made for another challenge");
}

TEST_F(AttestationSwtpm, RuntimeKeyCertifiedByAnotherKey) {
  Evidence e = good_evidence();
  Certify c = certify("rk", "ak2");
  e.runtime_key->certify_info = c.attest;
  e.runtime_key->signature = c.signature;
  expect_refused(verify(e), "runtime-key-certify", "does not verify under the enrolled AK");
}

TEST_F(AttestationSwtpm, RuntimeKeyPublicAreaSwapped) {
  // The certification is genuine, but for another key than the one presented.
  Evidence e = good_evidence();
  e.runtime_key->public_area = tpmt("rk_other");
  expect_refused(verify(e), "runtime-key-certify", "AK certified another key");
}

TEST_F(AttestationSwtpm, RuntimeKeyWithWrongAttributes) {
  Evidence e = good_evidence();
  Certify c = certify("rk_uwa", "ak");
  e.runtime_key = RuntimeKeyEvidence{tpmt("rk_uwa"), c.attest, c.signature, {0, 1, 2, 3, 4, 5, 6, 7}};
  expect_refused(verify(e), "runtime-key-attributes", "userWithAuth must be clear");
  // An AK is a signing key, not a decryption key.
  Certify self = certify("ak2", "ak");
  e.runtime_key = RuntimeKeyEvidence{tpmt("ak2"), self.attest, self.signature, {0, 1, 2, 3, 4, 5, 6, 7}};
  expect_refused(verify(e), "runtime-key-attributes", "decrypt must be set");
}

TEST_F(AttestationSwtpm, RuntimeKeyPolicyOverOtherPcrValues) {
  Evidence e = good_evidence();
  Certify c = certify("rk_other", "ak");
  e.runtime_key = RuntimeKeyEvidence{tpmt("rk_other"), c.attest, c.signature, {0, 1, 2, 3, 4, 5, 6, 7}};
  expect_refused(verify(e), "runtime-key-policy", "not bound to this boot state");
}

TEST_F(AttestationSwtpm, RuntimeKeyPolicyPcrsNotAsBound) {
  Evidence e = good_evidence();
  e.runtime_key->policy_pcrs = {0, 1, 2, 3, 4, 5, 6};  // the key is bound to 0-7
  expect_refused(verify(e), "runtime-key-policy", "authPolicy");
  e.runtime_key->policy_pcrs = {0, 7, 10};  // 10 is not quoted: its value is unknown
  expect_refused(verify(e), "runtime-key-policy", "sha256 PCR 10 is not covered");
  e.runtime_key->policy_pcrs = {};
  expect_refused(verify(e), "runtime-key-policy", "empty");
}


// Boot integrity rides along with a verified attestation: the measurements of
// the verified log are kept, and with a baseline in the policy the comparison
// is reported (matched or not) without turning into a rejection.
TEST_F(AttestationSwtpm, BaselineIsComparedAndMeasurementsKept) {
  const Evidence e = good_evidence();
  auto plain = verify(e);
  ASSERT_TRUE(plain.ok()) << plain.error().reason << ": " << plain.error().message;
  EXPECT_FALSE(plain->baseline_match().has_value());
  EXPECT_FALSE(plain->measurements().events().empty());
  EXPECT_EQ(plain->measurements().pcrs().size(), 11u);  // sha256 PCRs 0-9 and 14, all covered
  EXPECT_EQ(plain->self_reported().os, e.os);
  EXPECT_EQ(plain->self_reported().kernel_modules, e.kernel_modules);

  auto good = policy::variant_from_eventlog(log_, "debian-12", policy::default_baseline_pcrs(), 1795000000);
  ASSERT_TRUE(good.ok()) << good.error().message;
  AppraisalPolicy p;
  p.baseline = std::make_shared<policy::Baseline>(
      policy::Baseline{"debian-12-pool", 1, 1795000000, policy::default_baseline_pcrs(), {*good}});
  auto matched = verify(e, identity(), p);
  ASSERT_TRUE(matched.ok()) << matched.error().reason << ": " << matched.error().message;
  ASSERT_TRUE(matched->baseline_match().has_value());
  EXPECT_TRUE(matched->baseline_match()->matched);
  EXPECT_EQ(matched->baseline_match()->variant, "debian-12");

  // A baseline whose shim (event 23) has another digest: the boot deviates there.
  auto parsed = eventlog::ParsedLog::parse(log_);
  ASSERT_TRUE(parsed.ok());
  const ByteView shim = parsed->events().at(23).digest(HashAlg::sha256);
  Bytes other_log = log_;
  const auto at = static_cast<size_t>(shim.data() - parsed->bytes().data());
  for (size_t i = 0; i < shim.size(); ++i) other_log[at + i] ^= 0xff;
  auto other = policy::variant_from_eventlog(other_log, "other-shim", policy::default_baseline_pcrs(), 1795000000);
  ASSERT_TRUE(other.ok()) << other.error().message;
  p.baseline = std::make_shared<policy::Baseline>(
      policy::Baseline{"debian-12-pool", 2, 1795000000, policy::default_baseline_pcrs(), {*other}});
  auto deviating = verify(e, identity(), p);
  ASSERT_TRUE(deviating.ok()) << deviating.error().reason << ": " << deviating.error().message;
  ASSERT_TRUE(deviating->baseline_match().has_value());
  const policy::BaselineMatch& m = *deviating->baseline_match();
  EXPECT_FALSE(m.matched);
  EXPECT_EQ(m.variant, "other-shim");
  ASSERT_EQ(m.deviations.size(), 1u);
  EXPECT_EQ(m.deviations[0].kind, "digest-mismatch");
  EXPECT_EQ(m.deviations[0].pcr, 4u);
  EXPECT_EQ(m.deviations[0].event, 23u);
  EXPECT_EQ(m.deviations[0].actual, to_hex(shim));
  // Same claims either way: the baseline informs the fleet, not the token.
  EXPECT_EQ(deviating->claims(), plain->claims());
}

}  // namespace
}  // namespace tl::verify
