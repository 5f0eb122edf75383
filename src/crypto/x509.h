// Summaries of X.509 certificates (as found in UEFI signature lists).
#pragma once

#include <string>

#include "common/hex.h"
#include "common/result.h"

namespace tl::crypto {

struct CertificateSummary {
  std::string subject;             // RFC 2253, e.g. "CN=Microsoft Corporation UEFI CA 2011,O=…"
  std::string issuer;              // RFC 2253
  std::string serial_hex;          // lower-case hex
  std::string sha256_fingerprint;  // lower-case hex of SHA-256 over the DER
  std::string not_before;          // "YYYY-MM-DDTHH:MM:SSZ"
  std::string not_after;
};

// Parses exactly one DER certificate; trailing bytes are an error. Summaries of
// certificates seen before (same DER bytes) come from a bounded in-process cache.
Result<CertificateSummary> summarize_der_certificate(ByteView der);

}  // namespace tl::crypto
