// Invariant checks shared by the fuzz targets: a broken promise is a finding.
#pragma once

#include "common/hex.h"

namespace tl::fuzz {

inline void check(bool ok) {
  if (!ok) __builtin_trap();
}

// True when `inner` lies within `outer` (an empty view is anywhere).
inline bool inside(ByteView outer, ByteView inner) {
  return inner.empty() ||
         (inner.data() >= outer.data() && inner.data() + inner.size() <= outer.data() + outer.size());
}

}  // namespace tl::fuzz
