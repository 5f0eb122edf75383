// Step 6 of the pipeline: the TPM-resident runtime key for Secure Key Release.
//
// What makes a key wrapped to it safe: the AK (already trusted) certified that
// this exact public area lives in the same TPM (TPM2_Certify, fresh nonce); the
// public area says the private key was made inside the TPM and cannot leave it
// (fixedTPM, fixedParent, sensitiveDataOrigin), that it only decrypts, and that
// it can only be used through a policy (userWithAuth clear) whose digest is
// TPM2_PolicyPCR over the PCR values this very quote vouched for.
#include <algorithm>
#include <cstdio>
#include <string>

#include "token/base64url.h"
#include "tpm/attest.h"
#include "tpm/constants.h"
#include "tpm/policy.h"
#include "tpm/signature.h"
#include "verify/pipeline_internal.h"
#include "verify/reasons.h"

namespace tl::verify {

struct RuntimeKeyVerifier {
  static VerifiedRuntimeKey make(Bytes public_area, nlohmann::json jwk) {
    VerifiedRuntimeKey k;
    k.public_area_ = std::move(public_area);
    k.jwk_ = std::move(jwk);
    return k;
  }
};

namespace {

Error certify_error(const std::string& m) { return Error{"runtimeKey.certifyInfo: " + m, reason::kRuntimeKeyCertify}; }
Error attr_error(const std::string& m) { return Error{"runtimeKey.public: " + m, reason::kRuntimeKeyAttributes}; }
Error policy_error(const std::string& m) { return Error{"runtimeKey.policyPcrs: " + m, reason::kRuntimeKeyPolicy}; }

// The TPM2_Certify: made by the TPM (magic), of the certify type, signed by the
// AK under its scheme, for this challenge, over this key's Name.
Status check_certify(const RuntimeKeyEvidence& rk, const tpm::PublicArea& ak, const crypto::PublicKey& ak_key,
                     ByteView expected_nonce, ByteView key_name) {
  auto attest = tpm::parse_attest(rk.certify_info);
  if (!attest) return certify_error(attest.error().message);
  if (attest->magic != tpm::kGeneratedValue) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", attest->magic);
    return certify_error(std::string("magic ") + buf + " is not TPM_GENERATED_VALUE: the TPM did not make it");
  }
  if (attest->type != tpm::st::kAttestCertify || !attest->certify) {
    return certify_error("type " + tpm::st_name(attest->type) + " is not TPM_ST_ATTEST_CERTIFY");
  }
  auto sig = tpm::parse_signature(rk.signature);
  if (!sig) return Error{"runtimeKey.signature: " + sig.error().message, reason::kRuntimeKeyCertify};
  if (sig->hash == crypto::HashAlg::sha1) {
    return Error{"runtimeKey.signature: SHA-1 signatures are not accepted", reason::kRuntimeKeyCertify};
  }
  if (const tpm::Scheme* fixed = ak.signing_scheme()) {
    if (fixed->scheme != sig->sig_alg || fixed->hash != sig->hash) {
      return Error{"runtimeKey.signature: scheme " + tpm::alg_name(sig->sig_alg) +
                       " is not the AK's fixed scheme " + tpm::alg_name(fixed->scheme),
                   reason::kRuntimeKeyCertify};
    }
  }
  if (auto s = tpm::verify_signature(ak_key, rk.certify_info, *sig); !s) {
    return Error{"runtimeKey.signature does not verify under the enrolled AK (" + s.error().message +
                     "): the key was certified by another key, or the certification was altered",
                 reason::kRuntimeKeyCertify};
  }
  if (!std::equal(attest->extra_data.begin(), attest->extra_data.end(), expected_nonce.begin(),
                  expected_nonce.end())) {
    return certify_error("extraData " + to_hex(attest->extra_data) + " is not the expected nonce " +
                         to_hex(expected_nonce) + ": the certification was made for another challenge");
  }
  if (attest->certify->name != Bytes(key_name.begin(), key_name.end())) {
    return certify_error("certified Name " + to_hex(attest->certify->name) + " is not the Name " +
                         to_hex(key_name) + " of runtimeKey.public: the AK certified another key");
  }
  return {};
}

Status check_attributes(const tpm::PublicArea& p) {
  if (p.type != tpm::alg::kRsa || !p.rsa) return attr_error("type " + tpm::alg_name(p.type) + " is not RSA");
  if (p.rsa->key_bits != 2048) return attr_error("RSA key is " + std::to_string(p.rsa->key_bits) + " bits, expected 2048");
  if (p.name_alg != crypto::HashAlg::sha256) {
    return attr_error("nameAlg " + std::string(crypto::hash_name(p.name_alg)) + " is not sha256");
  }
  const tpm::ObjectAttributes& a = p.attributes;
  std::string bad;
  auto need = [&](bool ok, const char* what) {
    if (!ok) bad += std::string(bad.empty() ? "" : ", ") + what;
  };
  need(a.decrypt, "decrypt must be set");
  need(!a.sign, "sign must be clear");
  need(!a.restricted, "restricted must be clear");
  need(a.fixed_tpm, "fixedTPM must be set");
  need(a.fixed_parent, "fixedParent must be set");
  need(a.sensitive_data_origin, "sensitiveDataOrigin must be set");
  // With userWithAuth set the key's password alone would unwrap released keys,
  // bypassing the PCR policy.
  need(!a.user_with_auth, "userWithAuth must be clear (use only through the PCR policy)");
  if (!bad.empty()) {
    char raw[16];
    std::snprintf(raw, sizeof raw, "0x%08x", a.raw);
    return attr_error(std::string("objectAttributes ") + raw + ": " + bad);
  }
  return {};
}

Status check_policy(const RuntimeKeyEvidence& rk, const tpm::PublicArea& p, const tpm::VerifiedQuote& quote) {
  if (rk.policy_pcrs.empty()) return policy_error("empty: the key must be bound to PCR values");
  const auto bank = quote.pcrs().find(crypto::HashAlg::sha256);
  for (uint32_t pcr : rk.policy_pcrs) {
    if (bank == quote.pcrs().end() || !bank->second.contains(pcr)) {
      return policy_error("sha256 PCR " + std::to_string(pcr) +
                          " is not covered by the verified quote, so its value is unknown");
    }
  }
  auto expected = tpm::policy_pcr_digest(p.name_alg, crypto::HashAlg::sha256, rk.policy_pcrs, bank->second);
  if (!expected) return policy_error(expected.error().message);
  if (p.auth_policy != *expected) {
    return policy_error("the key's authPolicy " + to_hex(p.auth_policy) +
                        " is not TPM2_PolicyPCR over these PCRs with the quoted values (" + to_hex(*expected) +
                        "): the key is not bound to this boot state");
  }
  return {};
}

Bytes strip_leading_zeros(ByteView b) {
  size_t i = 0;
  while (i + 1 < b.size() && b[i] == 0) ++i;
  return Bytes(b.begin() + static_cast<std::ptrdiff_t>(i), b.end());
}

}  // namespace

namespace detail {

Result<VerifiedRuntimeKey> verify_runtime_key(const RuntimeKeyEvidence& rk, const tpm::PublicArea& ak,
                                              const crypto::PublicKey& ak_key, ByteView expected_nonce,
                                              const tpm::VerifiedQuote& quote) {
  auto pub = tpm::parse_tpmt_public(rk.public_area);
  if (!pub) return attr_error(pub.error().message);
  auto name = pub->name();
  if (!name) return attr_error(name.error().message);
  if (auto s = check_certify(rk, ak, ak_key, expected_nonce, *name); !s) return s.take_error();
  if (auto s = check_attributes(*pub); !s) return s.take_error();
  if (auto s = check_policy(rk, *pub, quote); !s) return s.take_error();

  const uint32_t e = pub->rsa->effective_exponent();
  const Bytes e_bytes{static_cast<uint8_t>(e >> 24), static_cast<uint8_t>(e >> 16), static_cast<uint8_t>(e >> 8),
                      static_cast<uint8_t>(e)};
  nlohmann::json jwk = {{"kid", "TpmEphemeralEncryptionKey"},
                        {"kty", "RSA"},
                        {"key_ops", {"encrypt"}},
                        {"e", token::base64url_encode(strip_leading_zeros(e_bytes))},
                        {"n", token::base64url_encode(strip_leading_zeros(pub->rsa->modulus))}};
  return RuntimeKeyVerifier::make(rk.public_area, std::move(jwk));
}

}  // namespace detail
}  // namespace tl::verify
