// The trust path: facts over the events a verified quote vouches for.
#include "eventlog/facts.h"
#include "eventlog/verified_log.h"

namespace tl::eventlog {

VerifiedBootFacts facts(const VerifiedLog& log) {
  return VerifiedBootFacts(detail::extract_facts(log.events(), log.format()));
}

}  // namespace tl::eventlog
