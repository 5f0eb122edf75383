// The running kernel's release (uname -r), for the evidence's os.kernelRelease.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace tl::agent {

// uname(2)'s release. Errors (reason "kernel-release") when uname fails or the
// release is empty or not printable ASCII: the evidence format would refuse it.
Result<std::string> kernel_release();
// The check kernel_release() applies, for tests: 1-256 bytes of 0x20-0x7e.
Result<std::string> checked_kernel_release(std::string_view release);

}  // namespace tl::agent
