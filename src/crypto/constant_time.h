// Comparison of secret-dependent bytes (MACs, tags) without early exit.
#pragma once

#include "common/hex.h"

namespace tl::crypto {

// True when a and b have the same length and contents. Time depends only on the
// length, never on where the first difference is.
bool constant_time_equal(ByteView a, ByteView b);

}  // namespace tl::crypto
