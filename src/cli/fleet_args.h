// Checks of the fleet commands' arguments, made before anything is sent so a
// typo is a usage error (exit 2) and never a request the server has to refuse.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "cli/options.h"
#include "common/result.h"

namespace tl::cli {

// Prints a fleet command's help on stdout: `head` (usage, what it does, its
// own options), the options every fleet command takes, then `exit_status`.
// Returns kExitOk.
int print_help(const char* head, const char* exit_status);

// Exactly the positionals named (e.g. {"NAME"}), in order.
Status expect_positionals(const ParsedOptions& o, std::initializer_list<const char*> names);

// A VM name or group as it goes into a URL path: 1–64 of [A-Za-z0-9._-]
// (docs/fleet-api.md), and not "." or "..", which a path cannot carry.
Status check_name(const char* what, const std::string& value);

// --option on|off; nullopt when the option was not given.
Result<std::optional<bool>> on_off(const ParsedOptions& o, const std::string& option);

// --option VALUE where VALUE must be one of `allowed` (exact case, as the API
// spells it); nullopt when the option was not given.
Result<std::optional<std::string>> one_of(const ParsedOptions& o, const std::string& option,
                                          const std::vector<std::string>& allowed);

// A positive decimal integer (a suppression id, a baseline version).
Result<int64_t> positive_integer(const char* what, const std::string& text);

// "0,2,4,7" → {0,2,4,7}: PCR indexes 0–23, each once, in the given order.
Result<std::vector<int>> parse_pcr_list(const std::string& text);

}  // namespace tl::cli
