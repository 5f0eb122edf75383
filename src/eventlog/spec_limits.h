// Limits the parser enforces on untrusted logs (documented in docs/eventlog.md).
#pragma once

#include <cstddef>
#include <cstdint>

namespace tl::eventlog {

// Real firmware logs are 2-100 KB; 16 MiB leaves room for logs with large
// certificate or SPDM events while bounding the work one input can cause.
inline constexpr size_t kMaxLogBytes = size_t{16} << 20;

// The Spec ID header may declare each known hash algorithm once (there are
// five), so any larger numberOfAlgorithms is malformed.
inline constexpr uint32_t kMaxSpecIdAlgorithms = 5;

}  // namespace tl::eventlog
