#include "agent/timestamp.h"

#include <cstdio>

namespace tl::agent {

using namespace std::chrono;

std::string format_timestamp(system_clock::time_point t) {
  const auto secs = floor<seconds>(t);
  const auto day = floor<days>(secs);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> hms{secs - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
  return buf;
}

Result<system_clock::time_point> parse_timestamp(std::string_view text) {
  const auto bad = [&](const std::string& why) {
    return Error{"timestamp \"" + std::string(text.substr(0, 40)) + "\": " + why};
  };
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:ddZ";
  if (text.size() != kShape.size()) return bad("expected the form YYYY-MM-DDTHH:MM:SSZ");
  for (size_t i = 0; i < kShape.size(); ++i) {
    const bool digit = text[i] >= '0' && text[i] <= '9';
    if (kShape[i] == 'd' ? !digit : text[i] != kShape[i]) return bad("expected the form YYYY-MM-DDTHH:MM:SSZ");
  }
  const auto num = [&](size_t pos, size_t len) {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) v = v * 10 + (text[i] - '0');
    return v;
  };
  const year_month_day ymd{year{num(0, 4)}, month{static_cast<unsigned>(num(5, 2))}, day{static_cast<unsigned>(num(8, 2))}};
  if (!ymd.ok() || ymd.year() < year{1970}) return bad("not a valid date");
  const int h = num(11, 2), m = num(14, 2), s = num(17, 2);
  if (h > 23 || m > 59 || s > 59) return bad("not a valid time of day");
  return system_clock::time_point{sys_days{ymd} + hours{h} + minutes{m} + seconds{s}};
}

}  // namespace tl::agent
