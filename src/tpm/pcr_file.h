// PCR values from files: tpm2-tools `tpm2_pcrread` YAML, `tpm2_pcrread -o` /
// `tpm2_quote -o` binary (TPML_PCR_SELECTION + TPML_DIGEST list), a JSON map
// {"sha256": {"0": "hex", …}}, or Linux sysfs-style lines "PCR sha256 0 HEX".
#pragma once

#include "common/hex.h"
#include "common/result.h"
#include "tpm/pcr.h"

namespace tl::tpm {

// Detects the format from the content; errors name the format tried, the line or offset.
Result<PcrValues> parse_pcr_file(ByteView contents);

}  // namespace tl::tpm
