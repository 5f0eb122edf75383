// The reporting frequency of the Guest Attestation extension's settings
// (AscSettings.ascReportingFrequency), such as "4H".
//
// Grammar: 1 to 9 decimal digits, then exactly one upper-case unit letter:
//   S seconds, M minutes, H hours, D days.
// No sign, spaces, fractions or lower-case units ("4h" is refused with a hint
// to write "4H": the extension writes upper case and the settings are
// case-sensitive). The value must lie in [kMinFrequency, kMaxFrequency].
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/result.h"

namespace tl::agent {

// Below 30 s the agent would load the service for no benefit; above 7 days the
// fleet monitor (stale after 8 h) would report the VM as Unknown most of the time.
inline constexpr std::chrono::seconds kMinFrequency{30};
inline constexpr std::chrono::seconds kMaxFrequency{7 * 24 * 3600};
// Matches the service's 8 h token lifetime and fleet staleness window.
inline constexpr std::chrono::seconds kDefaultFrequency{8 * 3600};

// Errors carry reason "settings-bad-frequency".
Result<std::chrono::seconds> parse_frequency(std::string_view text);

// The shortest exact spelling: 14400 s → "4H", 90 s → "90S".
std::string format_frequency(std::chrono::seconds s);

}  // namespace tl::agent
