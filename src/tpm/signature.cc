#include "tpm/signature.h"

#include "tpm/constants.h"
#include "tpm/internal.h"

namespace tl::tpm {

using internal::read_tpm2b;

Result<Signature> parse_signature(ByteView data) {
  ByteReader r(data);
  Signature s;
  const size_t alg_at = r.offset();
  TL_TPM_TRY(sig_alg, r.u16_be("TPMT_SIGNATURE.sigAlg"));
  if (sig_alg != alg::kRsassa && sig_alg != alg::kRsapss && sig_alg != alg::kEcdsa) {
    return r.error_at(alg_at, "TPMT_SIGNATURE.sigAlg",
                      "unsupported signature algorithm " + alg_name(sig_alg) +
                          " (RSASSA, RSAPSS and ECDSA are supported)");
  }
  s.sig_alg = sig_alg;
  const size_t hash_at = r.offset();
  TL_TPM_TRY(hash_id, r.u16_be("TPMT_SIGNATURE.signature.hash"));
  auto hash = crypto::hash_from_tpm_alg_id(hash_id);
  if (!hash) {
    return r.error_at(hash_at, "TPMT_SIGNATURE.signature.hash",
                      "unknown hash algorithm " + alg_name(hash_id));
  }
  s.hash = *hash;
  if (sig_alg == alg::kEcdsa) {
    TL_TPM_TRY(sr, read_tpm2b(r, kMaxEccKeyBytes, "TPMT_SIGNATURE.signature.signatureR"));
    TL_TPM_TRY(ss, read_tpm2b(r, kMaxEccKeyBytes, "TPMT_SIGNATURE.signature.signatureS"));
    s.ecc_r.assign(sr.begin(), sr.end());
    s.ecc_s.assign(ss.begin(), ss.end());
  } else {
    TL_TPM_TRY(sig, read_tpm2b(r, kMaxRsaKeyBytes, "TPMT_SIGNATURE.signature.sig"));
    s.rsa_sig.assign(sig.begin(), sig.end());
  }
  TL_TPM_CHECK(internal::expect_end(r, "TPMT_SIGNATURE"));
  return s;
}

Status verify_signature(const crypto::PublicKey& key, ByteView message, const Signature& sig) {
  switch (sig.sig_alg) {
    case alg::kRsassa: return key.verify_rsassa_pkcs1v15(sig.hash, message, sig.rsa_sig);
    case alg::kRsapss: return key.verify_rsapss(sig.hash, message, sig.rsa_sig);
    case alg::kEcdsa: return key.verify_ecdsa(sig.hash, message, sig.ecc_r, sig.ecc_s);
    default: return Error{"unsupported signature algorithm " + alg_name(sig.sig_alg)};
  }
}

}  // namespace tl::tpm
