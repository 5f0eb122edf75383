// TPM2_PolicyPCR computed without a TPM (TPM 2.0 Part 3, 23.7): the authPolicy a
// key gets when it may only be used while the given PCRs hold given values.
//
//   policyDigest_new = H(policyDigest_old || TPM_CC_PolicyPCR (u32 BE)
//                        || TPML_PCR_SELECTION || H(PCR values in selection order))
//
// H is the policy session's hash (the key's nameAlg). The selection is marshalled
// as tpm2-tools and the TPM reference code do for PCRs 0-23: one bank,
// sizeofSelect 3.
#pragma once

#include <cstdint>
#include <vector>

#include "common/hex.h"
#include "common/result.h"
#include "crypto/digest.h"
#include "tpm/pcr.h"

namespace tl::tpm {

inline constexpr uint32_t kCcPolicyPcr = 0x0000017F;

// TPML_PCR_SELECTION with one TPMS_PCR_SELECTION for `bank` (sizeofSelect 3).
// `pcrs` must be ascending, without repeats, each below 24.
Result<Bytes> marshal_pcr_selection(crypto::HashAlg bank, const std::vector<uint32_t>& pcrs);

// The policy digest after one TPM2_PolicyPCR over `pcrs` of `bank` with the values
// in `values` (each must be present and of the bank's digest size). `previous`
// is the session's digest before the command; empty = a fresh session (zeros).
Result<Bytes> policy_pcr_digest(crypto::HashAlg policy_hash, crypto::HashAlg bank,
                                const std::vector<uint32_t>& pcrs, const PcrMap& values,
                                ByteView previous = {});

}  // namespace tl::tpm
