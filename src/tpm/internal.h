// Private helpers for the tpm/ implementation files (not installed, not included by headers).
#pragma once

#include <cstdio>
#include <string>
#include <utility>

#include "common/byte_reader.h"
#include "common/result.h"

// Evaluates a Result-returning expression; on error returns it from the enclosing
// function, else binds the value to `var`. Keeps the readers flat and readable.
#define TL_TPM_CONCAT_(a, b) a##b
#define TL_TPM_CONCAT(a, b) TL_TPM_CONCAT_(a, b)
#define TL_TPM_TRY(var, expr)                                           \
  auto TL_TPM_CONCAT(tl_try_, __LINE__) = (expr);                       \
  if (!TL_TPM_CONCAT(tl_try_, __LINE__)) return TL_TPM_CONCAT(tl_try_, __LINE__).take_error(); \
  auto var = std::move(*TL_TPM_CONCAT(tl_try_, __LINE__))
#define TL_TPM_CHECK(expr)                              \
  do {                                                  \
    if (auto tl_st_ = (expr); !tl_st_) return tl_st_.take_error(); \
  } while (0)

namespace tl::tpm::internal {

inline std::string hex16(uint16_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04x", v);
  return buf;
}
inline std::string hex32(uint32_t v) {
  char buf[12];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// A TPM2B: u16 size then that many bytes, size bounded by `max`.
inline Result<ByteView> read_tpm2b(ByteReader& r, size_t max, const std::string& field) {
  const size_t at = r.offset();
  auto size = r.u16_be(field + ".size");
  if (!size) return size.take_error();
  if (*size > max) {
    return r.error_at(at, field + ".size",
                      std::to_string(*size) + " exceeds the maximum of " + std::to_string(max));
  }
  return r.bytes(*size, field + ".buffer");
}

// Parsing a whole buffer as one structure: leftover bytes are an error, not ignored.
inline Status expect_end(const ByteReader& r, const std::string& structure) {
  if (!r.empty()) {
    return r.error(structure, std::to_string(r.remaining()) + " trailing bytes after the structure");
  }
  return {};
}

}  // namespace tl::tpm::internal
