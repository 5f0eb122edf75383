// EK certificates: the endorsement credential that says an EK belongs to a
// genuine TPM (TCG EK Credential Profile). A verifier trusts an EK only when its
// certificate chains to an anchor it chose and certifies exactly that key.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "common/hex.h"
#include "common/result.h"
#include "tpm/public_area.h"

namespace tl::tpm {

// Validates ek_cert_der up to one of trust_anchors through the (untrusted)
// intermediates, under crypto::CertProfile::tpm_ek (see crypto/cert_chain.h for
// exactly what is checked and relaxed), and checks that the certified key is the
// EK's public key. intermediates / anchors: DER certificates or PEM texts.
Status verify_ek_certificate(const PublicArea& ek, ByteView ek_cert_der,
                             std::span<const ByteView> intermediates,
                             std::span<const ByteView> trust_anchors,
                             std::optional<int64_t> at = std::nullopt);

}  // namespace tl::tpm
