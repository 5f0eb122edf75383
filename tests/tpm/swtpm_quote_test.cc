// Real quotes from swtpm + tpm2-tools: RSA (RSASSA, RSAPSS) and ECC (P-256, P-384)
// AKs verify; every field of a quote, mutated, is refused with the right reason.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/hex.h"
#include "crypto/public_key.h"
#include "swtpm.h"
#include "tpm/attest.h"
#include "tpm/pcr_file.h"
#include "tpm/public_area.h"
#include "tpm/quote.h"

namespace tl::tpm {
namespace {

using crypto::HashAlg;

constexpr const char* kAkAttrs = "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign";
constexpr const char* kNonceHex = "5eed000102030405060708090a0b0c0d0e0f1011";

struct Quote {
  Bytes msg, sig, pcrs_file;
  PcrValues pcrs;
};

class SwtpmQuote : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto s = test::Swtpm::start();
    if (!s) {
      setup_error_ = s.error().message;
      return;
    }
    tpm_ = std::move(*s);
    // Non-trivial PCR values in both banks.
    std::string cmds =
        "tpm2_pcrextend 0:sha256=" + std::string(64, 'a') + ",sha1=" + std::string(40, 'b') +
        " && tpm2_pcrextend 7:sha256=" + std::string(64, 'c') +
        " && tpm2_pcrextend 1:sha1=" + std::string(40, 'd') +
        " && tpm2_createprimary -Q -C e -g sha256 -G rsa -c primary.ctx";
    if (auto r = tpm_->run(cmds); !r) return fail_setup(r.error().message);
    const std::pair<const char*, const char*> aks[] = {
        {"rsa", "rsa2048:rsassa-sha256:null"}, {"pss", "rsa2048:rsapss-sha256:null"},
        {"ecc", "ecc256:ecdsa-sha256:null"},   {"ecc384", "ecc384:ecdsa-sha384:null"},
        {"rsa2", "rsa2048:rsassa-sha256:null"}, {"sha1", "rsa2048:rsassa-sha1:null"}};
    for (const auto& [name, alg] : aks) {
      if (auto r = make_key(name, alg, kAkAttrs); !r) return fail_setup(r.error().message);
    }
    // Unrestricted signing key: TPM2_Quote accepts it, a verifier must not.
    if (auto r = make_key("unres", "rsa2048:rsassa-sha256:null",
                          "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign");
        !r) {
      return fail_setup(r.error().message);
    }
  }
  static void TearDownTestSuite() {
    tpm_.reset();  // stops swtpm, removes its temp dir, even after failures
    setup_error_.reset();
  }
  void SetUp() override {
    if (setup_error_) FAIL() << "swtpm setup: " << *setup_error_;
  }

  static void fail_setup(const std::string& m) {
    if (!setup_error_) setup_error_ = m;
  }
  static Result<std::string> make_key(const std::string& name, const std::string& alg,
                                      const std::string& attrs) {
    return tpm_->run("tpm2_create -Q -C primary.ctx -G " + alg + " -a '" + attrs + "' -u " + name +
                     ".pub -r " + name + ".priv && tpm2_flushcontext -t && tpm2_load -Q -C primary.ctx -u " +
                     name + ".pub -r " + name + ".priv -c " + name + ".ctx");
  }

  static PublicArea area(const std::string& key) {
    auto a = parse_tpm2b_public(tpm_->read(key + ".pub"));
    EXPECT_TRUE(a.ok()) << a.error().message;
    return *a;
  }
  static crypto::PublicKey key_of(const std::string& key) {
    auto k = area(key).public_key();
    EXPECT_TRUE(k.ok()) << k.error().message;
    return *k;
  }

  // tpm2_quote; pcrs from its -o file (the tpm2-tools binary format).
  static Quote quote(const std::string& key, const std::string& sel, const std::string& hash = "sha256",
                     const std::string& extra = "") {
    auto r = tpm_->run("tpm2_quote -Q -c " + key + ".ctx -l " + sel + " -q " + kNonceHex +
                       " -m q.msg -s q.sig -o q.pcrs -g " + hash + " " + extra);
    EXPECT_TRUE(r.ok()) << r.error().message;
    Quote q{tpm_->read("q.msg"), tpm_->read("q.sig"), tpm_->read("q.pcrs"), {}};
    auto p = parse_pcr_file(q.pcrs_file);
    EXPECT_TRUE(p.ok()) << p.error().message;
    if (p) q.pcrs = *p;
    return q;
  }

  static Bytes nonce() { return *from_hex(kNonceHex); }

  static void expect_reason(const Result<VerifiedQuote>& r, const std::string& check,
                            const std::string& text) {
    ASSERT_FALSE(r.ok()) << "accepted, expected '" << check << "' to fail";
    EXPECT_NE(r.error().message.find("quote check '" + check + "' failed"), std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find(text), std::string::npos) << r.error().message;
  }

  static inline std::unique_ptr<test::Swtpm> tpm_;
  static inline std::optional<std::string> setup_error_;
};

TEST_F(SwtpmQuote, RsaRsassaVerifiesWithPublicAreaAndPlainKey) {
  Quote q = quote("rsa", "sha256:0,1,2,3,4,7");
  auto v = verify_quote(area("rsa"), q.msg, q.sig, q.pcrs, nonce(), {{HashAlg::sha256, {0, 7}}});
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->pcrs().at(HashAlg::sha256).size(), 6u);
  EXPECT_EQ(to_hex(v->nonce()), kNonceHex);
  EXPECT_TRUE(verify_quote(key_of("rsa"), q.msg, q.sig, q.pcrs, nonce(), {}).ok());

  // The values in the VerifiedQuote are the TPM's, as tpm2_pcrread reports them (YAML).
  auto yaml = tpm_->run("tpm2_pcrread sha256:0,1,2,3,4,7");
  ASSERT_TRUE(yaml.ok()) << yaml.error().message;
  auto read = parse_pcr_file(as_bytes(*yaml));
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(v->pcrs(), *read);
  EXPECT_NE(to_hex(read->at(HashAlg::sha256).at(0)), std::string(64, '0'));
}

TEST_F(SwtpmQuote, RsaPssVerifies) {
  Quote q = quote("pss", "sha256:0,7", "sha256", "--scheme rsapss");
  auto s = parse_signature(q.sig);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->sig_alg, 0x0016);
  auto v = verify_quote(area("pss"), q.msg, q.sig, q.pcrs, nonce(), {});
  EXPECT_TRUE(v.ok()) << v.error().message;
}

TEST_F(SwtpmQuote, EccP256AndP384Verify) {
  Quote q = quote("ecc", "sha256:0,1,7");
  auto v = verify_quote(area("ecc"), q.msg, q.sig, q.pcrs, nonce(), {});
  EXPECT_TRUE(v.ok()) << v.error().message;
  Quote q384 = quote("ecc384", "sha256:0,7", "sha384");
  auto v384 = verify_quote(area("ecc384"), q384.msg, q384.sig, q384.pcrs, nonce(), {});
  EXPECT_TRUE(v384.ok()) << v384.error().message;
}

TEST_F(SwtpmQuote, Sha1BankAndMultiBankQuotesVerify) {
  Quote q1 = quote("rsa", "sha1:0,1,7");
  auto v1 = verify_quote(area("rsa"), q1.msg, q1.sig, q1.pcrs, nonce(), {{HashAlg::sha1, {0, 1, 7}}});
  ASSERT_TRUE(v1.ok()) << v1.error().message;
  EXPECT_EQ(v1->pcrs().at(HashAlg::sha1).at(1).size(), 20u);

  // More than 8 PCRs over two banks: two TPML_DIGESTs in the -o file, bank order kept.
  Quote qm = quote("rsa", "sha256:0,1,2,3,4,5,6,7+sha1:0,1,7");
  auto vm = verify_quote(area("rsa"), qm.msg, qm.sig, qm.pcrs, nonce(),
                         {{HashAlg::sha1, {0, 1, 7}}, {HashAlg::sha256, {0, 7}}});
  ASSERT_TRUE(vm.ok()) << vm.error().message;
  EXPECT_EQ(vm->pcrs().size(), 2u);
}

TEST_F(SwtpmQuote, NameAndPemMatchTpm2Tools) {
  auto r = tpm_->run("tpm2_readpublic -Q -c ecc.ctx -n ecc.name -f pem -o ecc.pem");
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto name = area("ecc").name();
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(to_hex(*name), to_hex(tpm_->read("ecc.name")));
  Bytes pem = tpm_->read("ecc.pem");
  auto k = crypto::PublicKey::from_pem(std::string(pem.begin(), pem.end()));
  ASSERT_TRUE(k.ok());
  EXPECT_TRUE(*k == key_of("ecc"));

  PublicArea a = area("rsa");
  EXPECT_TRUE(a.attributes.restricted && a.attributes.sign && a.attributes.fixed_tpm);
  EXPECT_FALSE(a.attributes.decrypt);
  ASSERT_TRUE(a.rsa.has_value());
  EXPECT_EQ(a.rsa->key_bits, 2048);
  EXPECT_EQ(a.rsa->effective_exponent(), 65537u);
  ASSERT_NE(a.signing_scheme(), nullptr);
  EXPECT_EQ(a.signing_scheme()->scheme, 0x0014);
}

// Every mutation of a good RSA quote is refused for the right reason.
class SwtpmMutations : public SwtpmQuote {
 protected:
  void SetUp() override {
    SwtpmQuote::SetUp();
    if (HasFatalFailure()) return;
    q_ = quote("rsa", "sha256:0,1,2,3,4,7");
    ASSERT_TRUE(verify_quote(area("rsa"), q_.msg, q_.sig, q_.pcrs, nonce(), {}).ok());
  }
  Result<VerifiedQuote> verify(const Bytes& msg, const Bytes& sig, const PcrValues& pcrs,
                               const std::vector<PcrRequirement>& req = {}) {
    return verify_quote(area("rsa"), msg, sig, pcrs, nonce(), req);
  }
  Quote q_;
};

TEST_F(SwtpmMutations, BadMagic) {
  Bytes m = q_.msg;
  m[0] = 0xfe;
  expect_reason(verify(m, q_.sig, q_.pcrs), "magic", "0xfe544347");
}

TEST_F(SwtpmMutations, WrongType) {
  Bytes m = q_.msg;
  m[5] = 0x16;  // TPM_ST_ATTEST_SESSION_AUDIT
  expect_reason(verify(m, q_.sig, q_.pcrs), "type", "TPM_ST_ATTEST_SESSION_AUDIT");
  m[5] = 0x30;  // not a TPMI_ST_ATTEST at all: malformed
  expect_reason(verify(m, q_.sig, q_.pcrs), "attest.parse", "TPMS_ATTEST.type at offset 0x4");
}

TEST_F(SwtpmMutations, OtherNonce) {
  Bytes other = nonce();
  other.back() ^= 1;
  expect_reason(verify_quote(area("rsa"), q_.msg, q_.sig, q_.pcrs, other, {}), "nonce",
                "does not equal the expected nonce");
}

TEST_F(SwtpmMutations, ExtraDataChangedInTheMessage) {
  auto a = parse_attest(q_.msg);
  ASSERT_TRUE(a.ok());
  // extraData follows magic(4) type(2) qualifiedSigner(2+n) and its own size(2).
  Bytes m = q_.msg;
  m[4 + 2 + 2 + a->qualified_signer.size() + 2] ^= 0x80;
  expect_reason(verify(m, q_.sig, q_.pcrs), "nonce", "does not equal");
  // Even with the nonce the attacker wants, the signature no longer holds.
  auto forged_nonce = parse_attest(m);
  ASSERT_TRUE(forged_nonce.ok());
  auto r = verify_quote(area("rsa"), m, q_.sig, q_.pcrs, forged_nonce->extra_data, {});
  expect_reason(r, "signature", "does not verify");
}

TEST_F(SwtpmMutations, FlippedSignatureByte) {
  Bytes s = q_.sig;
  s[s.size() / 2] ^= 0x01;
  expect_reason(verify(q_.msg, s, q_.pcrs), "signature", "does not verify under the key");
}

TEST_F(SwtpmMutations, SignatureUnderADifferentKey) {
  expect_reason(verify_quote(area("rsa2"), q_.msg, q_.sig, q_.pcrs, nonce(), {}), "signature",
                "does not verify");
  expect_reason(verify_quote(key_of("ecc"), q_.msg, q_.sig, q_.pcrs, nonce(), {}),
                "signature.scheme", "does not fit the AK's key type");
}

TEST_F(SwtpmMutations, WrongHashAlgInSignature) {
  Bytes s = q_.sig;
  ASSERT_EQ(s[3], 0x0b);
  s[3] = 0x0c;  // claims SHA-384
  // With the AK's public area the fixed scheme (RSASSA-SHA256) refuses it outright…
  expect_reason(verify(q_.msg, s, q_.pcrs), "signature.scheme",
                "uses TPM_ALG_RSASSA/sha384 but the AK is restricted to TPM_ALG_RSASSA/sha256");
  // …and with a bare key the signature does not verify with SHA-384.
  expect_reason(verify_quote(key_of("rsa"), q_.msg, s, q_.pcrs, nonce(), {}), "signature",
                "does not verify");
  s[2] = 0x00;
  s[3] = 0x04;  // SHA-1: refused whatever the key says
  expect_reason(verify_quote(key_of("rsa"), q_.msg, s, q_.pcrs, nonce(), {}), "signature.scheme",
                "sha1 is not accepted");
  Bytes pss = q_.sig;
  pss[1] = 0x16;  // RSAPSS claimed, key restricted to RSASSA
  expect_reason(verify(q_.msg, pss, q_.pcrs), "signature.scheme", "restricted to TPM_ALG_RSASSA");
  Bytes unknown = q_.sig;
  unknown[3] = 0x99;
  expect_reason(verify(q_.msg, unknown, q_.pcrs), "signature.parse",
                "TPMT_SIGNATURE.signature.hash at offset 0x2: unknown hash algorithm 0x0099");
}

TEST_F(SwtpmMutations, PcrValueChanged) {
  PcrValues p = q_.pcrs;
  p[HashAlg::sha256][3][0] ^= 0x01;
  expect_reason(verify(q_.msg, q_.sig, p), "pcr_digest", "does not match");
}

TEST_F(SwtpmMutations, PcrDigestChangedInTheMessage) {
  Bytes m = q_.msg;
  m.back() ^= 0x01;  // last byte of pcrDigest
  expect_reason(verify(m, q_.sig, q_.pcrs), "signature", "does not verify");
}

TEST_F(SwtpmMutations, SelectionNotCoveringARequiredPcr) {
  expect_reason(verify(q_.msg, q_.sig, q_.pcrs, {{HashAlg::sha256, {0, 7, 8}}}), "pcr_selection",
                "required sha256 PCR 8 not in the quote's selection sha256:0,1,2,3,4,7");
  expect_reason(verify(q_.msg, q_.sig, q_.pcrs, {{HashAlg::sha1, {0}}}), "pcr_selection",
                "required sha1 PCR 0");
  // With the default (empty) requirement, a supplied value the quote does not cover is refused.
  PcrValues more = q_.pcrs;
  more[HashAlg::sha256][9] = Bytes(32, 0);
  expect_reason(verify(q_.msg, q_.sig, more), "pcr_selection", "sha256 PCR 9");
}

TEST_F(SwtpmMutations, MissingSuppliedPcr) {
  PcrValues p = q_.pcrs;
  p[HashAlg::sha256].erase(4);
  expect_reason(verify(q_.msg, q_.sig, p, {{HashAlg::sha256, {0}}}), "pcr_values",
                "no supplied value for sha256 PCR 4");
  expect_reason(verify(q_.msg, q_.sig, {}, {{HashAlg::sha256, {0}}}), "pcr_values",
                "no supplied value for sha256 PCR 0");
  PcrValues short_value = q_.pcrs;
  short_value[HashAlg::sha256][1].pop_back();
  expect_reason(verify(q_.msg, q_.sig, short_value), "pcr_values", "is 31 bytes");
}

TEST_F(SwtpmMutations, TruncatedAndTrailing) {
  Bytes t(q_.msg.begin(), q_.msg.end() - 1);
  expect_reason(verify(t, q_.sig, q_.pcrs), "attest.parse", "TPMS_QUOTE_INFO.pcrDigest.buffer at offset");
  Bytes tail = q_.msg;
  tail.push_back(0);
  expect_reason(verify(tail, q_.sig, q_.pcrs), "attest.parse", "1 trailing bytes");
  Bytes st(q_.sig.begin(), q_.sig.end() - 3);
  expect_reason(verify(q_.msg, st, q_.pcrs), "signature.parse", "TPMT_SIGNATURE.signature.sig.buffer");
  Bytes stail = q_.sig;
  stail.push_back(0);
  expect_reason(verify(q_.msg, stail, q_.pcrs), "signature.parse", "trailing");
  QuoteReport rep = check_quote(area("rsa"), t, q_.sig, q_.pcrs, nonce(), {});
  EXPECT_TRUE(rep.malformed);
}

TEST_F(SwtpmQuote, UnrestrictedSigningKeyIsRefused) {
  Quote q = quote("unres", "sha256:0");
  expect_reason(verify_quote(area("unres"), q.msg, q.sig, q.pcrs, nonce(), {}), "ak.attributes",
                "lacks restricted");
}

TEST_F(SwtpmQuote, Sha1SignatureIsRefused) {
  Quote q = quote("sha1", "sha256:0", "sha1");
  expect_reason(verify_quote(area("sha1"), q.msg, q.sig, q.pcrs, nonce(), {}), "signature.scheme",
                "sha1 is not accepted");
}

TEST_F(SwtpmQuote, PcrreadSerializedFileParses) {
  auto r = tpm_->run("tpm2_pcrread -Q -F serialized -o read.pcrs sha1:0,1+sha256:0,7");
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto p = parse_pcr_file(tpm_->read("read.pcrs"));
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->at(HashAlg::sha1).size(), 2u);
  EXPECT_EQ(p->at(HashAlg::sha256).size(), 2u);
  // Without -F serialized the file holds bare values, no selection: refused.
  auto raw = tpm_->run("tpm2_pcrread -Q -o raw.pcrs sha256:0,1,2,3,4,5");
  ASSERT_TRUE(raw.ok()) << raw.error().message;
  EXPECT_FALSE(parse_pcr_file(tpm_->read("raw.pcrs")).ok());
}

}  // namespace
}  // namespace tl::tpm
