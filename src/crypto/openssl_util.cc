#include "crypto/openssl_util.h"

#include <openssl/err.h>

namespace tl::crypto {

std::string openssl_error(const std::string& context) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return context;
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return context + " (" + buf + ")";
}

}  // namespace tl::crypto
