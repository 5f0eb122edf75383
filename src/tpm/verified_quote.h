// A TPM2_Quote whose signature, nonce and PCR digest have been checked.
// Only tpm::verify_quote makes one; code that decides trust takes this type.
#pragma once

#include <cstdint>

#include "common/hex.h"
#include "tpm/pcr.h"

namespace tl::tpm {

namespace detail {
struct VerifiedQuoteBuilder;  // defined by the quote verifier only
}

class VerifiedQuote {
 public:
  // Exactly the PCRs the quote's selection covers, with values whose hash equals
  // the signed pcrDigest. PCRs outside the selection are absent.
  const PcrValues& pcrs() const { return pcrs_; }
  ByteView nonce() const { return nonce_; }  // == the quote's extraData
  uint64_t clock() const { return clock_; }
  uint32_t reset_count() const { return reset_count_; }
  uint32_t restart_count() const { return restart_count_; }
  bool safe() const { return safe_; }
  uint64_t firmware_version() const { return firmware_version_; }
  const Bytes& qualified_signer() const { return qualified_signer_; }  // TPM2B_NAME

 private:
  VerifiedQuote() = default;
  friend struct detail::VerifiedQuoteBuilder;
  PcrValues pcrs_;
  Bytes nonce_;
  uint64_t clock_ = 0;
  uint32_t reset_count_ = 0;
  uint32_t restart_count_ = 0;
  bool safe_ = false;
  uint64_t firmware_version_ = 0;
  Bytes qualified_signer_;
};

}  // namespace tl::tpm
