// Private to src/verify: the steps of verify_attestation that live in their own files.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "common/result.h"
#include "eventlog/facts.h"
#include "tpm/public_area.h"
#include "tpm/verified_quote.h"
#include "verify/attestation.h"
#include "verify/evidence.h"

namespace tl::verify::detail {

// Step 6 (runtime_key.cc): TPM2_Certify of the runtime key by the AK, the key's
// attributes, and its PolicyPCR authPolicy over values of the verified quote.
Result<VerifiedRuntimeKey> verify_runtime_key(const RuntimeKeyEvidence& rk, const tpm::PublicArea& ak,
                                              const crypto::PublicKey& ak_key, ByteView expected_nonce,
                                              const tpm::VerifiedQuote& quote);

// Step 7 (claims.cc): the claims body from verified inputs only, plus the
// self-reported OS fields and client payload (labelled so in docs/claims.md).
struct ClaimInputs {
  const EnrolledIdentity& identity;
  const tpm::VerifiedQuote& quote;
  const eventlog::VerifiedBootFacts& facts;
  const std::optional<VerifiedRuntimeKey>& runtime_key;
  const SecureBootReference& reference;
  const OsInfo& os;                       // self-reported
  const nlohmann::json& client_payload;  // self-reported
  // Self-reported; null or not reported = no x-tl-kernel-modules claim.
  const KernelModuleReport* kernel_modules = nullptr;
};
nlohmann::json make_claims(const ClaimInputs& in);

// The "x-ms-azurevm-*validated" decisions, separately testable through the claims.
bool kernel_debug_enabled(const std::optional<std::string>& cmdline);

}  // namespace tl::verify::detail
