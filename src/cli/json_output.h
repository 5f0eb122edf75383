// JSON renderings shared by tlaunch subcommands (keys in insertion order).
#pragma once

#include <nlohmann/json.hpp>

#include "tpm/pcr.h"

namespace tl::cli {

// {"sha256": {"0": "<lower-case hex>", …}, …}: banks and PCRs ascending.
nlohmann::ordered_json pcrs_json(const tpm::PcrValues& pcrs);

}  // namespace tl::cli
