// Verification of an SEV-SNP report: the ECDSA P-384 signature (little-endian r
// and s) under the VCEK or VLEK, the VCEK -> ASK -> ARK (VLEK -> ASVK -> ARK)
// chain (RSA-PSS SHA-384) to AMD's root for the product shipped with trustlaunch
// (snp_anchors.h), the VCEK's TCB extensions against the report's REPORTED_TCB,
// its hwid against CHIP_ID, and optionally REPORT_DATA against the caller's data.
//
// Checks, in order (Check::name; reason when failed):
//   parse            report well formed            snp-report-malformed
//   product          product known (report/option/VCEK issuer)   snp-product-unknown
//                    ... and every source that names one agrees   snp-product-mismatch
//   signature.algo   SIGNATURE_ALGO == 1 (ECDSA P-384 SHA-384)    snp-signature-invalid
//   signing_key      VCEK or VLEK, matching the certificate given snp-signing-key-mismatch
//   chain.ark        ARK == the shipped anchor (or, if given, equal to it; self-signed)  snp-chain-invalid
//   chain.ask        ASK/ASVK signed by the ARK                   snp-chain-invalid
//   chain.vcek       VCEK/VLEK signed by the ASK/ASVK, valid at `at`   snp-chain-invalid
//   tcb              VCEK TCB extensions == REPORTED_TCB (each SPL named)  snp-tcb-mismatch
//   hwid             VCEK hwid == CHIP_ID (VCEK only; not run for a VLEK; passes
//                    without comparing when CHIP_ID is all zero, i.e. the platform
//                    set MASK_CHIP_ID: the VCEK signature still binds the chip)  snp-chip-id-mismatch
//   signature        the report signature under the VCEK/VLEK; fails when KEY_INFO
//                    MASK_CHIP_KEY is set (the firmware did not sign: zero signature)  snp-signature-invalid
//   report_data      REPORT_DATA starts with expected_report_data (when given)  snp-report-data-mismatch
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "common/hex.h"
#include "common/result.h"
#include "crypto/public_key.h"
#include "tee/check.h"
#include "tee/snp_report.h"

namespace tl::tee {

// DER certificates. Empty ark / ask: the shipped ones for the product are used.
struct SnpCertChain {
  Bytes ark;
  Bytes ask;   // ASK (for a VCEK) or ASVK (for a VLEK)
  Bytes vcek;  // VCEK or VLEK; required
};

struct SnpVerifyOptions {
  std::optional<SnpProduct> product;          // else from the report (v3+) or the VCEK's issuer
  std::optional<Bytes> expected_report_data;  // 1..64 bytes: REPORT_DATA must start with them
  std::optional<int64_t> at;                  // certificate validity time (seconds); default now
};

namespace detail {
struct SnpVerifiedBuilder;
}

// A report whose signature, chain and TCB binding checked out.
class VerifiedSnpReport {
 public:
  const SnpReport& report() const { return report_; }
  SnpProduct product() const { return report_.product; }
  SnpSigningKey signing_key() const { return signing_key_; }
  bool debuggable() const { return report_.policy.debug_allowed; }

 private:
  VerifiedSnpReport() = default;
  friend struct detail::SnpVerifiedBuilder;
  SnpReport report_;
  SnpSigningKey signing_key_ = SnpSigningKey::vcek;
};

struct SnpReportCheck {
  std::vector<Check> checks;
  std::optional<SnpReport> parsed;             // for display; not verified
  std::optional<VerifiedSnpReport> verified;   // only when every check passed
  bool ok() const { return verified.has_value(); }
};

SnpReportCheck check_snp_report(ByteView report, const SnpCertChain& certs,
                                const SnpVerifyOptions& options);
// check_snp_report + "all passed"; the error is the first failed check.
Result<VerifiedSnpReport> verify_snp_report(ByteView report, const SnpCertChain& certs,
                                            const SnpVerifyOptions& options);

// The certificate chain alone (chain.ark, chain.ask, chain.vcek above): the
// VCEK/VLEK signed by the ASK/ASVK signed by the shipped ARK of the product
// (given, else named by the certificate's issuer), each valid at `at` (default
// now). Returns the VCEK/VLEK public key (EC P-384). Reasons:
// snp-chain-invalid, snp-product-unknown, snp-product-mismatch.
Result<crypto::PublicKey> verify_snp_chain(const SnpCertChain& certs, std::optional<SnpProduct> product = {},
                                           std::optional<int64_t> at = {});

// Thread-safe verifier that remembers which VCEK/VLEK certificates (by DER
// SHA-256) already chained to a shipped root at a given product, so a verification
// with a known certificate costs the ECDSA P-384 check and the TCB comparison.
// Certificate validity times are still checked on every call. A chain is
// remembered only after a report verified completely with it (so certificates
// sent with bad reports cost nothing), and at most `capacity` chains are kept,
// least recently used evicted first; capacity 0 disables the cache.
class SnpVerifier {
 public:
  explicit SnpVerifier(size_t capacity = 1024);
  ~SnpVerifier();
  SnpVerifier(const SnpVerifier&) = delete;
  SnpVerifier& operator=(const SnpVerifier&) = delete;

  SnpReportCheck check(ByteView report, const SnpCertChain& certs, const SnpVerifyOptions& options);
  Result<VerifiedSnpReport> verify(ByteView report, const SnpCertChain& certs,
                                   const SnpVerifyOptions& options);

  // How many chains are remembered now (for tests and monitoring).
  size_t cached_chains() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace tl::tee
