#include "eventlog/facts.h"

#include <algorithm>

#include "eventlog/checks.h"
#include "eventlog/facts_internal.h"

namespace tl::eventlog {

namespace detail {

std::map<crypto::HashAlg, std::string> digests_hex(const Event& e) {
  std::map<crypto::HashAlg, std::string> out;
  for (const auto& d : e.digests) out[d.alg] = to_hex(d.value);
  return out;
}

std::string_view ascii_data(const Event& e) {
  std::string_view s(reinterpret_cast<const char*>(e.data.data()), e.data.size());
  if (!s.empty() && s.back() == '\0') s.remove_suffix(1);
  return s;
}

bool looks_utf16(ByteView data) {
  if (data.size() < 4) return false;
  // Every second byte zero over the first characters, and a non-zero first byte.
  const size_t n = std::min<size_t>(data.size() / 2, 16);
  if (data[0] == 0) return false;
  for (size_t i = 0; i < n; ++i)
    if (data[2 * i + 1] != 0) return false;
  return true;
}

size_t pcr7_separator_position(std::span<const Event> events) {
  for (size_t i = 0; i < events.size(); ++i)
    if (events[i].pcr == 7 && events[i].type == EV_SEPARATOR) return i;
  return events.size();
}

size_t data_offset(const Event& e, LogFormat format) {
  size_t header = 8 + 4;  // PCRIndex, EventType; EventSize
  if (format == LogFormat::sha1_legacy || (e.index == 0 && e.type == EV_NO_ACTION)) {
    header += 20;
  } else {
    header += 4;
    for (const auto& d : e.digests) header += 2 + d.value.size();
  }
  return e.offset + header;
}

BootFacts extract_facts(std::span<const Event> events, LogFormat format) {
  BootFacts f;
  extract_secure_boot(events, format, f.secure_boot, f.problems);
  f.boot_applications = extract_boot_applications(events, format, f.problems);
  f.linux_boot = extract_linux_boot(events);
  return f;
}

void add_check_problems(std::span<const Event> events, BootFacts& f) {
  auto checks = check_events(events);
  f.problems.insert(f.problems.end(), checks.begin(), checks.end());
  std::stable_sort(f.problems.begin(), f.problems.end(),
                   [](const Problem& a, const Problem& b) { return a.event < b.event; });
}

}  // namespace detail

BootFacts inspect_facts(const ParsedLog& log) {
  BootFacts f = detail::extract_facts(log.events(), log.format());
  detail::add_check_problems(log.events(), f);
  return f;
}

}  // namespace tl::eventlog
