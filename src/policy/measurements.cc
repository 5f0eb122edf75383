// The SHA-256 measurements of a verified log: the only way to make
// VerifiedMeasurements, so compare() judges nothing a quote did not vouch for.
#include <algorithm>

#include "eventlog/verified_log.h"
#include "policy/baseline_internal.h"

namespace tl::policy {

std::vector<uint32_t> default_baseline_pcrs() { return {0, 2, 4, 7, 8, 9}; }

namespace detail {

bool contains_pcr(const std::vector<uint32_t>& pcrs, uint32_t pcr) {
  return std::find(pcrs.begin(), pcrs.end(), pcr) != pcrs.end();
}

std::vector<Measurement> measurements_of(std::span<const eventlog::Event> events, const std::vector<uint32_t>& pcrs) {
  std::vector<Measurement> out;
  for (const eventlog::Event& e : events) {
    if (e.type == eventlog::EV_NO_ACTION || !contains_pcr(pcrs, e.pcr)) continue;
    const ByteView d = e.digest(crypto::HashAlg::sha256);
    if (d.empty()) continue;
    out.push_back(Measurement{e.pcr, e.index, eventlog::event_type_name(e.type), component_name(e), to_hex(d)});
  }
  return out;
}

}  // namespace detail

VerifiedMeasurements measure(const eventlog::VerifiedLog& log) {
  VerifiedMeasurements m;
  // Only the SHA-256 bank: baselines are SHA-256 (SHA-1 collisions are practical).
  const auto bank = log.pcrs().find(crypto::HashAlg::sha256);
  if (bank == log.pcrs().end()) return m;
  for (const auto& [pcr, value] : bank->second) m.pcrs_.emplace(pcr, to_hex(value));
  std::vector<uint32_t> covered;
  for (const auto& [pcr, value] : bank->second) covered.push_back(pcr);
  // VerifiedLog keeps a digest only where its bank verified the PCR, so an
  // event's SHA-256 digest here is one the quote vouches for.
  m.events_ = detail::measurements_of(log.events(), covered);
  return m;
}

}  // namespace tl::policy
