// A boot on a real TPM for baseline tests: a fresh swtpm's PCRs are extended
// with a log's SHA-256 digests, an ECC AK quotes them (tpm2-tools), and the
// quote and log go through tpm::verify_quote and eventlog::verify_log before
// policy::measure. No step is simulated.
#pragma once

#include "common/hex.h"
#include "common/result.h"
#include "policy/baseline.h"

namespace tl::test {

Result<policy::VerifiedMeasurements> measure_on_swtpm(const Bytes& log);

}  // namespace tl::test
