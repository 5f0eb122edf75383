#include "tpm/ek_certificate.h"

#include "crypto/cert_chain.h"

namespace tl::tpm {

Status verify_ek_certificate(const PublicArea& ek, ByteView ek_cert_der,
                             std::span<const ByteView> intermediates,
                             std::span<const ByteView> trust_anchors, std::optional<int64_t> at) {
  auto ek_key = ek.public_key();
  if (!ek_key) return with_context("EK public area", ek_key.take_error());
  auto certified = crypto::verify_certificate_chain(ek_cert_der, intermediates, trust_anchors,
                                                    crypto::CertProfile::tpm_ek, at);
  if (!certified) return with_context("EK certificate", certified.take_error());
  if (!(*certified == *ek_key)) {
    return Error{"EK certificate: certifies a different key than the EK public area"};
  }
  return {};
}

}  // namespace tl::tpm
