// PCR values per bank, as read from a TPM, replayed from a log, or covered by a quote.
#pragma once

#include <cstdint>
#include <map>

#include "common/hex.h"
#include "crypto/digest.h"

namespace tl::tpm {

inline constexpr uint32_t kNumPcrs = 24;

using PcrMap = std::map<uint32_t, Bytes>;                // PCR index -> value
using PcrValues = std::map<crypto::HashAlg, PcrMap>;     // bank -> PCRs

}  // namespace tl::tpm
