// Lower-case hex encoding and strict decoding.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tl {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

std::string to_hex(ByteView bytes);

// Accepts upper or lower case, an optional "0x" prefix; rejects odd length and
// non-hex characters, naming the position of the first bad character.
Result<Bytes> from_hex(std::string_view text);

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace tl
