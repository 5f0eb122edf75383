// The trust path: facts over the events a verified quote vouches for.
#include <vector>

#include "eventlog/checks.h"
#include "eventlog/facts.h"
#include "eventlog/verified_log.h"

namespace tl::eventlog {

VerifiedBootFacts facts(const VerifiedLog& log) {
  // Replay proved the digests, not the data beside them: an event whose data
  // does not hash to its verified digest (edited after measurement, or a
  // measured blob relabelled) must not decide anything.
  std::vector<Event> measured;
  measured.reserve(log.events().size());
  for (const Event& e : log.events())
    if (data_is_measured(e)) measured.push_back(e);
  BootFacts f = detail::extract_facts(measured, log.format());
  detail::add_check_problems(log.events(), f);
  return VerifiedBootFacts(std::move(f));
}

}  // namespace tl::eventlog
