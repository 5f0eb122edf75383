// TPML_PCR_SELECTION (TPM 2.0 Part 2, 10.9.7): which PCRs of which banks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/byte_reader.h"
#include "common/result.h"
#include "crypto/digest.h"

namespace tl::tpm {

// One TPMS_PCR_SELECTION: a bank and the PCR indices whose bits are set, ascending.
struct PcrBankSelection {
  crypto::HashAlg bank;
  uint8_t size_of_select = 0;  // as on the wire (bytes of bitmap)
  std::vector<uint32_t> pcrs;  // ascending

  bool contains(uint32_t pcr) const;
};

// Banks in wire order; that order is the order PCR values enter a quote's pcrDigest.
struct PcrSelection {
  std::vector<PcrBankSelection> banks;

  // The entry for `bank`, or nullptr. (Duplicate banks are rejected by the reader.)
  const PcrBankSelection* find(crypto::HashAlg bank) const;
  bool contains(crypto::HashAlg bank, uint32_t pcr) const;
  size_t pcr_count() const;
  std::string to_string() const;  // "sha256:0,1,2+sha1:7" (tpm2-tools spelling)
};

// Reads a TPML_PCR_SELECTION (big-endian). Rejects count > 16, unknown hash
// algorithms, sizeofSelect > 4 and a bank listed twice, with the byte offset.
Result<PcrSelection> read_pcr_selection(ByteReader& r);
// The whole buffer must be exactly one TPML_PCR_SELECTION.
Result<PcrSelection> parse_pcr_selection(ByteView data);

}  // namespace tl::tpm
