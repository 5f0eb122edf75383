// One named check of a TEE verification and its outcome. Verifiers return every
// check that ran (for `tlaunch snp verify --json` and friends) and make their
// Verified* value only when all passed, so a report and a verdict cannot disagree.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace tl::tee {

struct Check {
  std::string name;    // stable, e.g. "signature", "chain.vcek", "tcb.bootloader"
  bool passed = false;
  std::string detail;  // what was compared, for a person
  std::string reason;  // stable slug when failed (docs/errors.md), e.g. "snp-signature-invalid"
};

// The first failed check as an Error ("check 'signature' failed: …", reason).
// Precondition: some check failed.
Error first_failure(const std::vector<Check>& checks);

}  // namespace tl::tee
