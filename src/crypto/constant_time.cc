#include "crypto/constant_time.h"

#include <openssl/crypto.h>

namespace tl::crypto {

bool constant_time_equal(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;  // lengths are public
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace tl::crypto
