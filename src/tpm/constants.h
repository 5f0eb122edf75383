// TPM 2.0 constants used by the wire structures (TPM 2.0 Part 2: tables 9 (TPM_ALG_ID),
// 10 (TPM_ECC_CURVE), 19 (TPM_ST), 31 (TPMA_OBJECT)). Only what this library decodes.
#pragma once

#include <cstdint>
#include <string>

namespace tl::tpm {

// TPM_ALG_ID values.
namespace alg {
inline constexpr uint16_t kRsa = 0x0001;
inline constexpr uint16_t kTdes = 0x0003;
inline constexpr uint16_t kSha1 = 0x0004;
inline constexpr uint16_t kHmac = 0x0005;
inline constexpr uint16_t kAes = 0x0006;
inline constexpr uint16_t kMgf1 = 0x0007;
inline constexpr uint16_t kKeyedHash = 0x0008;
inline constexpr uint16_t kXor = 0x000A;
inline constexpr uint16_t kSha256 = 0x000B;
inline constexpr uint16_t kSha384 = 0x000C;
inline constexpr uint16_t kSha512 = 0x000D;
inline constexpr uint16_t kNull = 0x0010;
inline constexpr uint16_t kSm3_256 = 0x0012;
inline constexpr uint16_t kSm4 = 0x0013;
inline constexpr uint16_t kRsassa = 0x0014;
inline constexpr uint16_t kRsaes = 0x0015;
inline constexpr uint16_t kRsapss = 0x0016;
inline constexpr uint16_t kOaep = 0x0017;
inline constexpr uint16_t kEcdsa = 0x0018;
inline constexpr uint16_t kEcdh = 0x0019;
inline constexpr uint16_t kEcdaa = 0x001A;
inline constexpr uint16_t kSm2 = 0x001B;
inline constexpr uint16_t kEcschnorr = 0x001C;
inline constexpr uint16_t kEcmqv = 0x001D;
inline constexpr uint16_t kKdf1Sp800_56a = 0x0020;
inline constexpr uint16_t kKdf2 = 0x0021;
inline constexpr uint16_t kKdf1Sp800_108 = 0x0022;
inline constexpr uint16_t kEcc = 0x0023;
inline constexpr uint16_t kSymCipher = 0x0025;
inline constexpr uint16_t kCamellia = 0x0026;
inline constexpr uint16_t kCtr = 0x0040;
inline constexpr uint16_t kOfb = 0x0041;
inline constexpr uint16_t kCbc = 0x0042;
inline constexpr uint16_t kCfb = 0x0043;
inline constexpr uint16_t kEcb = 0x0044;
}  // namespace alg

// TPM_ECC_CURVE values.
namespace curve {
inline constexpr uint16_t kNistP192 = 0x0001;
inline constexpr uint16_t kNistP224 = 0x0002;
inline constexpr uint16_t kNistP256 = 0x0003;
inline constexpr uint16_t kNistP384 = 0x0004;
inline constexpr uint16_t kNistP521 = 0x0005;
inline constexpr uint16_t kBnP256 = 0x0010;
inline constexpr uint16_t kBnP638 = 0x0011;
inline constexpr uint16_t kSm2P256 = 0x0020;
}  // namespace curve

// TPM_ST values of TPMI_ST_ATTEST.
namespace st {
inline constexpr uint16_t kAttestNv = 0x8014;
inline constexpr uint16_t kAttestCommandAudit = 0x8015;
inline constexpr uint16_t kAttestSessionAudit = 0x8016;
inline constexpr uint16_t kAttestCertify = 0x8017;
inline constexpr uint16_t kAttestQuote = 0x8018;
inline constexpr uint16_t kAttestTime = 0x8019;
inline constexpr uint16_t kAttestCreation = 0x801A;
inline constexpr uint16_t kAttestNvDigest = 0x801C;
}  // namespace st

// TPM_GENERATED_VALUE: "\xffTCG"; the TPM only signs structures starting with it
// when it made them itself, which is what makes a quote unforgeable by TPM2_Sign.
inline constexpr uint32_t kGeneratedValue = 0xff544347;

// Size limits of TPM2B buffers for the reference implementation's maxima (Part 2
// tables for TPMU_HA, TPM2B_NAME, TPM2B_PUBLIC_KEY_RSA, TPM2B_ECC_PARAMETER).
inline constexpr size_t kMaxDigestSize = 64;       // sizeof(TPMU_HA), SHA-512
inline constexpr size_t kMaxNameSize = 2 + 64;     // sizeof(TPMU_NAME) = TPMT_HA
inline constexpr size_t kMaxDataSize = 2 + 64;     // TPM2B_DATA: sizeof(TPMT_HA)
inline constexpr size_t kMaxRsaKeyBytes = 512;     // 4096-bit modulus
inline constexpr size_t kMaxEccKeyBytes = 66;      // P-521 coordinate
inline constexpr size_t kHashCount = 16;           // TPML_PCR_SELECTION capacity
inline constexpr size_t kMaxPcrSelectBytes = 4;    // up to 32 PCRs per bank

// "TPM_ALG_SHA256", or "0x1234" for values this library does not name.
std::string alg_name(uint16_t alg_id);
std::string st_name(uint16_t st);

}  // namespace tl::tpm
