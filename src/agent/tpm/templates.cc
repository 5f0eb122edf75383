#include "agent/tpm/templates.h"

#include <cstring>

namespace tl::agent::tpm::detail {

namespace {

TPM2B_PUBLIC base(TPMI_ALG_PUBLIC type, TPMA_OBJECT attributes) {
  TPM2B_PUBLIC p{};
  p.publicArea.type = type;
  p.publicArea.nameAlg = TPM2_ALG_SHA256;
  p.publicArea.objectAttributes = attributes;
  return p;
}

void set_rsa(TPM2B_PUBLIC& p, TPM2_ALG_ID sym, TPM2_ALG_ID scheme, uint16_t unique_size) {
  TPMS_RSA_PARMS& r = p.publicArea.parameters.rsaDetail;
  r.symmetric.algorithm = sym;
  if (sym == TPM2_ALG_AES) {
    r.symmetric.keyBits.aes = 128;
    r.symmetric.mode.aes = TPM2_ALG_CFB;
  }
  r.scheme.scheme = scheme;
  if (scheme == TPM2_ALG_RSASSA) r.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
  r.keyBits = 2048;
  r.exponent = 0;  // 65537
  // Zero-filled unique of the key's size: what the EK profile mandates, so the
  // EK derived from the template is the one the manufacturer certified.
  p.publicArea.unique.rsa.size = unique_size;
}

void set_ecc(TPM2B_PUBLIC& p, TPM2_ALG_ID sym, TPM2_ALG_ID scheme, uint16_t unique_size) {
  TPMS_ECC_PARMS& e = p.publicArea.parameters.eccDetail;
  e.symmetric.algorithm = sym;
  if (sym == TPM2_ALG_AES) {
    e.symmetric.keyBits.aes = 128;
    e.symmetric.mode.aes = TPM2_ALG_CFB;
  }
  e.scheme.scheme = scheme;
  if (scheme == TPM2_ALG_ECDSA) e.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
  e.curveID = TPM2_ECC_NIST_P256;
  e.kdf.scheme = TPM2_ALG_NULL;
  p.publicArea.unique.ecc.x.size = unique_size;
  p.publicArea.unique.ecc.y.size = unique_size;
}

}  // namespace

TPM2B_PUBLIC ek_template(KeyAlg alg) {
  TPM2B_PUBLIC p = base(alg == KeyAlg::rsa2048 ? TPM2_ALG_RSA : TPM2_ALG_ECC, kEkAttributes);
  p.publicArea.authPolicy.size = sizeof kEkPolicy;
  std::memcpy(p.publicArea.authPolicy.buffer, kEkPolicy, sizeof kEkPolicy);
  if (alg == KeyAlg::rsa2048) {
    set_rsa(p, TPM2_ALG_AES, TPM2_ALG_NULL, 256);
  } else {
    set_ecc(p, TPM2_ALG_AES, TPM2_ALG_NULL, 32);
  }
  return p;
}

TPM2B_PUBLIC srk_template() {
  TPM2B_PUBLIC p = base(TPM2_ALG_ECC, kSrkAttributes);
  set_ecc(p, TPM2_ALG_AES, TPM2_ALG_NULL, 32);
  return p;
}

TPM2B_PUBLIC ak_template(KeyAlg alg) {
  TPM2B_PUBLIC p = base(alg == KeyAlg::rsa2048 ? TPM2_ALG_RSA : TPM2_ALG_ECC, kAkAttributes);
  if (alg == KeyAlg::rsa2048) {
    set_rsa(p, TPM2_ALG_NULL, TPM2_ALG_RSASSA, 0);
  } else {
    set_ecc(p, TPM2_ALG_NULL, TPM2_ALG_ECDSA, 0);
  }
  return p;
}

TPM2B_PUBLIC runtime_key_template(ByteView policy) {
  TPM2B_PUBLIC p = base(TPM2_ALG_RSA, kRuntimeKeyAttributes);
  p.publicArea.authPolicy.size = static_cast<uint16_t>(policy.size());
  std::memcpy(p.publicArea.authPolicy.buffer, policy.data(), policy.size());
  set_rsa(p, TPM2_ALG_NULL, TPM2_ALG_NULL, 0);
  return p;
}

}  // namespace tl::agent::tpm::detail
