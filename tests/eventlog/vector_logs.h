// Shared helpers of the event-log tests: loading vector logs and expected.json.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "common/result.h"
#include "tpm/pcr.h"
#include "tpm/verified_quote.h"

namespace tl::test {

// RFC 4648 base64 (standard alphabet); whitespace is skipped.
Result<Bytes> decode_base64(std::string_view text);

// "PCR sha256 N HEX" lines (the guest's sysfs dump) into values.
Result<tpm::PcrValues> parse_sysfs_pcr_lines(const std::string& text);

// expected.json's {"sha1": {"0": "hex"}} into values.
tpm::PcrValues pcrs_from_json(const nlohmann::json& j);

// The quote recorded with vectors/ovmf-secureboot (quote.msg, quote.sig,
// quote.pcrs, quote_nonce.txt, ak.pub in `dir`), checked by tpm::verify_quote
// with sha256 PCRs 0-7 required.
Result<tpm::VerifiedQuote> verify_recorded_ovmf_quote(const std::filesystem::path& dir);

}  // namespace tl::test
