// Private to tl_agent_tpm: the public-area templates of every key the agent
// creates (docs/agent-tpm.md lists them with their sources).
#pragma once

#include <tss2/tss2_tpm2_types.h>

#include <cstdint>

#include "agent/tpm/agent_tpm.h"
#include "common/hex.h"

namespace tl::agent::tpm::detail {

// TPMA_OBJECT sets.
inline constexpr TPMA_OBJECT kEkAttributes =  // 0x000300B2
    TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
    TPMA_OBJECT_ADMINWITHPOLICY | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
inline constexpr TPMA_OBJECT kSrkAttributes =  // 0x00030472
    TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
    TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
inline constexpr TPMA_OBJECT kAkAttributes =  // 0x00050072
    TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
    TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
inline constexpr TPMA_OBJECT kRuntimeKeyAttributes =  // 0x00020032
    TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
    TPMA_OBJECT_DECRYPT;

// PolicySecret(TPM_RH_ENDORSEMENT) with SHA-256: the EK templates' authPolicy.
inline constexpr uint8_t kEkPolicy[32] = {
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xB3, 0xF8, 0x1A, 0x90, 0xCC, 0x8D, 0x46, 0xA5, 0xD7, 0x24,
    0xFD, 0x52, 0xD7, 0x6E, 0x06, 0x52, 0x0B, 0x64, 0xF2, 0xA1, 0xDA, 0x1B, 0x33, 0x14, 0x69, 0xAA};

// TCG EK Credential Profile 2.0 templates L-1 (RSA 2048) and L-2 (ECC P-256).
TPM2B_PUBLIC ek_template(KeyAlg alg);
// TCG Provisioning Guidance storage root key template, ECC P-256.
TPM2B_PUBLIC srk_template();
TPM2B_PUBLIC ak_template(KeyAlg alg);
// RSA-2048 decryption key, scheme NULL, authPolicy = policy (a SHA-256 digest).
TPM2B_PUBLIC runtime_key_template(ByteView policy);

}  // namespace tl::agent::tpm::detail
