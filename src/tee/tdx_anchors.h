// Intel's SGX Root CA (the root of PCK and TCB signing chains), shipped as the
// trust anchor for TDX quotes, DER. Provenance and fingerprint: docs/tee.md.
#pragma once

#include "common/hex.h"

namespace tl::tee {

ByteView intel_sgx_root_ca();

}  // namespace tl::tee
