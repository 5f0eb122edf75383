#include "tpm/constants.h"

#include "tpm/internal.h"

namespace tl::tpm {

std::string alg_name(uint16_t alg_id) {
  switch (alg_id) {
    case alg::kRsa: return "TPM_ALG_RSA";
    case alg::kTdes: return "TPM_ALG_TDES";
    case alg::kSha1: return "TPM_ALG_SHA1";
    case alg::kHmac: return "TPM_ALG_HMAC";
    case alg::kAes: return "TPM_ALG_AES";
    case alg::kMgf1: return "TPM_ALG_MGF1";
    case alg::kKeyedHash: return "TPM_ALG_KEYEDHASH";
    case alg::kXor: return "TPM_ALG_XOR";
    case alg::kSha256: return "TPM_ALG_SHA256";
    case alg::kSha384: return "TPM_ALG_SHA384";
    case alg::kSha512: return "TPM_ALG_SHA512";
    case alg::kNull: return "TPM_ALG_NULL";
    case alg::kSm3_256: return "TPM_ALG_SM3_256";
    case alg::kSm4: return "TPM_ALG_SM4";
    case alg::kRsassa: return "TPM_ALG_RSASSA";
    case alg::kRsaes: return "TPM_ALG_RSAES";
    case alg::kRsapss: return "TPM_ALG_RSAPSS";
    case alg::kOaep: return "TPM_ALG_OAEP";
    case alg::kEcdsa: return "TPM_ALG_ECDSA";
    case alg::kEcdh: return "TPM_ALG_ECDH";
    case alg::kEcdaa: return "TPM_ALG_ECDAA";
    case alg::kSm2: return "TPM_ALG_SM2";
    case alg::kEcschnorr: return "TPM_ALG_ECSCHNORR";
    case alg::kEcmqv: return "TPM_ALG_ECMQV";
    case alg::kKdf1Sp800_56a: return "TPM_ALG_KDF1_SP800_56A";
    case alg::kKdf2: return "TPM_ALG_KDF2";
    case alg::kKdf1Sp800_108: return "TPM_ALG_KDF1_SP800_108";
    case alg::kEcc: return "TPM_ALG_ECC";
    case alg::kSymCipher: return "TPM_ALG_SYMCIPHER";
    case alg::kCamellia: return "TPM_ALG_CAMELLIA";
    case alg::kCtr: return "TPM_ALG_CTR";
    case alg::kOfb: return "TPM_ALG_OFB";
    case alg::kCbc: return "TPM_ALG_CBC";
    case alg::kCfb: return "TPM_ALG_CFB";
    case alg::kEcb: return "TPM_ALG_ECB";
    default: return internal::hex16(alg_id);
  }
}

std::string st_name(uint16_t value) {
  switch (value) {
    case st::kAttestNv: return "TPM_ST_ATTEST_NV";
    case st::kAttestCommandAudit: return "TPM_ST_ATTEST_COMMAND_AUDIT";
    case st::kAttestSessionAudit: return "TPM_ST_ATTEST_SESSION_AUDIT";
    case st::kAttestCertify: return "TPM_ST_ATTEST_CERTIFY";
    case st::kAttestQuote: return "TPM_ST_ATTEST_QUOTE";
    case st::kAttestTime: return "TPM_ST_ATTEST_TIME";
    case st::kAttestCreation: return "TPM_ST_ATTEST_CREATION";
    case st::kAttestNvDigest: return "TPM_ST_ATTEST_NV_DIGEST";
    default: return internal::hex16(value);
  }
}

}  // namespace tl::tpm
