// The verification pipeline (DESIGN.md): pure functions, no I/O, no clock.
//
//   AK trust → quote → event log replay == quoted PCRs → facts → appraisal → claims
//
// Each step takes only the verified output of the step before it. Every
// rejection is an Error with a stable `reason` slug (verify/reasons.h;
// docs/evidence.md "Rejection reasons") and a message naming the field, PCR or
// event index. Claims are documented in docs/claims.md.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "common/result.h"
#include "crypto/digest.h"
#include "eventlog/facts.h"
#include "policy/baseline.h"
#include "tpm/public_area.h"
#include "tpm/verified_quote.h"
#include "verify/evidence.h"

namespace tl::verify {

// What enrollment established (read from the store by the service). The AK was
// proven, by credential activation, to live in the TPM of this EK.
struct EnrolledIdentity {
  std::string vm_id;
  Bytes ak_public;  // TPMT_PUBLIC as enrolled
  bool ek_certificate_validated = false;  // EK cert chained to a configured CA
};

// Reference Secure Boot content for the x-ms-azurevm-*validated claims
// (docs/claims.md says exactly how each is derived).
struct SecureBootReference {
  // SHA-256 fingerprints (lower-case hex) of the X.509 certificates of the
  // default Secure Boot keys (by default Microsoft's PK-independent KEK and db CAs).
  std::vector<std::string> default_kek_fingerprints;
  std::vector<std::string> default_db_fingerprints;
  // Hashes (lower-case hex, any EFI_CERT_SHA256 entry) dbx must contain;
  // empty = no reference: dbx must be measured, non-empty, and revoke nothing booted.
  std::vector<std::string> required_dbx_hashes;
};

// Microsoft's KEK and db CAs (2011 and 2023 generations), fingerprints taken from
// real firmware event logs (docs/claims.md names each certificate).
SecureBootReference default_secure_boot_reference();

struct AppraisalPolicy {
  // Banks that must be quoted; evidence lacking one is refused
  // ("sha256-bank-required"). SHA-1 is accepted only if listed in allowed_banks.
  std::vector<crypto::HashAlg> required_banks{crypto::HashAlg::sha256};
  std::vector<crypto::HashAlg> allowed_banks{crypto::HashAlg::sha256};
  // PCRs (in every required bank) the quote must cover (a subset quote is refused).
  std::vector<uint32_t> required_pcrs{0, 1, 2, 3, 4, 5, 6, 7};
  bool require_runtime_key = true;
  SecureBootReference secure_boot = default_secure_boot_reference();
  // The trusted baseline of the VM's group; null = no comparison
  // (VerifiedAttestation::baseline_match() is then nullopt).
  std::shared_ptr<const policy::Baseline> baseline;
};

// What the agent says that no measurement vouches for (docs/claims.md marks
// the claims made from it as self-reported).
struct SelfReported {
  OsInfo os;
  KernelModuleReport kernel_modules;
};

// The runtime key, after its TPM2_Certify by the trusted AK checked out.
class VerifiedRuntimeKey {
 public:
  const Bytes& public_area() const { return public_area_; }
  // {"kid":"TpmEphemeralEncryptionKey","kty":"RSA","key_ops":["encrypt"],"e":…,"n":…}
  const nlohmann::json& jwk() const { return jwk_; }
 private:
  VerifiedRuntimeKey() = default;
  friend struct RuntimeKeyVerifier;
  Bytes public_area_;
  nlohmann::json jwk_;
};

// Everything the pipeline proved, plus the claims body for the token (no iss,
// iat, nbf, exp, jti: the issuer adds those). Only verify_attestation makes one.
class VerifiedAttestation {
 public:
  const std::string& vm_id() const { return vm_id_; }
  const tpm::VerifiedQuote& quote() const { return *quote_; }
  const eventlog::VerifiedBootFacts& facts() const { return *facts_; }
  const std::optional<VerifiedRuntimeKey>& runtime_key() const { return runtime_key_; }
  // MAA Trusted Launch vocabulary + trustlaunch's "x-tl-*" claims (docs/claims.md).
  const nlohmann::json& claims() const { return claims_; }
  // The verified log's SHA-256 measurements (for baselines).
  const policy::VerifiedMeasurements& measurements() const { return *measurements_; }
  // The comparison with AppraisalPolicy::baseline, when one was given.
  const std::optional<policy::BaselineMatch>& baseline_match() const { return baseline_match_; }
  const SelfReported& self_reported() const { return self_reported_; }
 private:
  VerifiedAttestation() = default;
  friend struct AttestationBuilder;
  std::string vm_id_;
  std::optional<tpm::VerifiedQuote> quote_;
  std::optional<eventlog::VerifiedBootFacts> facts_;
  std::optional<VerifiedRuntimeKey> runtime_key_;
  nlohmann::json claims_;
  std::optional<policy::VerifiedMeasurements> measurements_;
  std::optional<policy::BaselineMatch> baseline_match_;
  SelfReported self_reported_;
};

// Runs the whole pipeline. expected_nonce is the challenge the caller checked
// (MAC, expiry, single use) or, for the stateless appraisal endpoint, the nonce
// the operator says the evidence was made for.
Result<VerifiedAttestation> verify_attestation(const Evidence& evidence,
                                               const EnrolledIdentity& identity,
                                               ByteView expected_nonce,
                                               const AppraisalPolicy& policy);

}  // namespace tl::verify
