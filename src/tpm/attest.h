// TPMS_ATTEST (TPM 2.0 Part 2, 10.12.12): what a TPM signs in TPM2_Quote,
// TPM2_Certify and friends. Parsing checks structure only; tpm::verify_quote
// decides whether a quote is trustworthy.
#pragma once

#include <cstdint>
#include <optional>

#include "common/hex.h"
#include "common/result.h"
#include "tpm/pcr_selection.h"

namespace tl::tpm {

struct ClockInfo {  // TPMS_CLOCK_INFO
  uint64_t clock = 0;          // ms the TPM has been powered since its last clear
  uint32_t reset_count = 0;    // TPM resets (reboots) since the last clear
  uint32_t restart_count = 0;  // TPM2_Shutdown(STATE)/Startup pairs since the last reset
  bool safe = false;           // clock has not gone backwards
};

struct QuoteInfo {  // TPMS_QUOTE_INFO
  PcrSelection pcr_select;
  Bytes pcr_digest;
};

struct CertifyInfo {  // TPMS_CERTIFY_INFO
  Bytes name;
  Bytes qualified_name;
};

struct Attest {
  uint32_t magic = 0;  // not checked here: verification reports a bad magic as such
  uint16_t type = 0;   // a TPMI_ST_ATTEST value
  Bytes qualified_signer;  // TPM2B_NAME
  Bytes extra_data;        // TPM2B_DATA: the caller's nonce
  ClockInfo clock_info;
  uint64_t firmware_version = 0;
  std::optional<QuoteInfo> quote;      // type == TPM_ST_ATTEST_QUOTE
  std::optional<CertifyInfo> certify;  // type == TPM_ST_ATTEST_CERTIFY
  Bytes other_attested;  // raw union for the other TPMI_ST_ATTEST types (not decoded)
};

// Parses a whole TPMS_ATTEST (big-endian). Rejects a type outside TPMI_ST_ATTEST,
// oversized TPM2B fields, unknown PCR banks and trailing bytes, naming field and offset.
Result<Attest> parse_attest(ByteView data);

}  // namespace tl::tpm
