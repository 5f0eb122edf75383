// X.509 certificate path validation for endorsement credentials: a leaf certificate,
// untrusted intermediates, and the trust anchors the caller chose. OpenSSL's
// X509_verify_cert does the path building and RFC 5280 checks (signatures,
// validity times, CA basic constraints, key usage of issuers, name chaining).
// Only what a profile needs is relaxed, and each relaxation is named below.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/hex.h"
#include "common/result.h"
#include "crypto/public_key.h"

namespace tl::crypto {

enum class CertProfile {
  // TCG EK Credential Profile (2.0): the leaf is an EK certificate.
  //  - If the leaf has an extendedKeyUsage it must contain tcg-kp-EKCertificate
  //    (2.23.133.8.1); OpenSSL has no purpose for it, so this check is ours.
  //  - If the leaf has keyUsage it must allow keyEncipherment (RSA EK) or
  //    keyAgreement (ECC EK); the leaf must not be a CA.
  //  - Relaxed: a critical subjectDirectoryAttributes extension (2.5.29.9, the
  //    TPM's security assertions) on the leaf only, which OpenSSL does not
  //    process and would refuse as "unhandled critical extension". Any other
  //    unknown critical extension, on any certificate, is still refused.
  //    (The critical subjectAltName with the TPM manufacturer/model/version
  //    directory name, and certificatePolicies, are extensions OpenSSL handles.)
  tpm_ek,
};

// Each element of `intermediates` / `trust_anchors` is one DER certificate or a
// PEM text with one or more certificates. `at` (seconds since the epoch) checks
// validity at that time instead of now. Returns the leaf's public key only when
// a path from the leaf to one of the anchors validates; the error says why not.
Result<PublicKey> verify_certificate_chain(ByteView leaf_der, std::span<const ByteView> intermediates,
                                           std::span<const ByteView> trust_anchors, CertProfile profile,
                                           std::optional<int64_t> at = std::nullopt);

// The subject public key of one DER certificate (trailing bytes are an error),
// with no validation of the certificate at all: only for callers that trust
// the certificate by another route (a JWKS "x5c" fetched from its issuer).
Result<PublicKey> certificate_public_key(ByteView der);

// Splits a PEM text (one or more CERTIFICATE blocks) or one DER certificate into
// DER certificates. Trailing bytes after a DER certificate are an error.
Result<std::vector<Bytes>> parse_certificates(ByteView pem_or_der);

}  // namespace tl::crypto
