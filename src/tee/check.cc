#include "tee/check.h"

namespace tl::tee {

Error first_failure(const std::vector<Check>& checks) {
  for (const auto& c : checks)
    if (!c.passed) return Error{"check '" + c.name + "' failed: " + c.detail, c.reason};
  return Error{"no check failed", "internal"};
}

}  // namespace tl::tee
