#include "agent/frequency.h"

#include <cstdint>

namespace tl::agent {
namespace {

constexpr const char* kReason = "settings-bad-frequency";
constexpr size_t kMaxDigits = 9;  // 999'999'999 D still fits int64 seconds

Error bad(std::string_view text, const std::string& why) {
  return Error{"frequency \"" + std::string(text.substr(0, 64)) + (text.size() > 64 ? "…" : "") + "\": " + why, kReason};
}

int64_t unit_seconds(char u) {
  switch (u) {
    case 'S': return 1;
    case 'M': return 60;
    case 'H': return 3600;
    case 'D': return 86400;
    default: return 0;
  }
}

}  // namespace

Result<std::chrono::seconds> parse_frequency(std::string_view text) {
  if (text.empty()) return bad(text, "empty (expected a number and a unit, such as \"4H\")");
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) {
    if (text.front() == '-') return bad(text, "negative");
    return bad(text, "does not start with a number (expected such as \"4H\")");
  }
  const std::string_view number = text.substr(0, digits);
  const std::string_view unit = text.substr(digits);
  if (unit.empty()) return bad(text, "missing unit: append S, M, H or D (such as \"" + std::string(number) + "H\")");
  if (unit.size() > 1 || unit.front() == '.') {
    if (unit.front() == '.') return bad(text, "fractions are not allowed (use a smaller unit)");
    return bad(text, "expected a single unit letter S, M, H or D after the number");
  }
  const char u = unit.front();
  if (unit_seconds(u) == 0) {
    const char upper = (u >= 'a' && u <= 'z') ? static_cast<char>(u - 'a' + 'A') : u;
    if (unit_seconds(upper) != 0) {
      return bad(text, "unit must be upper case: write \"" + std::string(number) + upper + "\"");
    }
    return bad(text, "unknown unit (expected S, M, H or D)");
  }
  // Leading zeros are skipped before counting, so "0004H" is 4 hours and the
  // digit limit bounds the value, not its spelling.
  size_t first = 0;
  while (first + 1 < number.size() && number[first] == '0') ++first;
  if (number.size() - first > kMaxDigits) return bad(text, "number is too large");
  int64_t n = 0;
  for (size_t i = first; i < number.size(); ++i) n = n * 10 + (number[i] - '0');
  if (n == 0) return bad(text, "zero is not a frequency");
  const std::chrono::seconds value{n * unit_seconds(u)};
  if (value < kMinFrequency) return bad(text, "shorter than the minimum " + format_frequency(kMinFrequency));
  if (value > kMaxFrequency) return bad(text, "longer than the maximum " + format_frequency(kMaxFrequency));
  return value;
}

std::string format_frequency(std::chrono::seconds s) {
  const int64_t n = s.count();
  if (n != 0 && n % 86400 == 0) return std::to_string(n / 86400) + "D";
  if (n != 0 && n % 3600 == 0) return std::to_string(n / 3600) + "H";
  if (n != 0 && n % 60 == 0) return std::to_string(n / 60) + "M";
  return std::to_string(n) + "S";
}

}  // namespace tl::agent
