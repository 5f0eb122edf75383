// Shared by the TDX tests: the vector quotes and byte offsets into them.
#pragma once

#include <cstdint>
#include <string>

#include "common/hex.h"

namespace tl::tee::testutil {

inline constexpr const char* kV5Quote = "cvm/gotdx-quote-v5/quote_v5_sample.dat";
inline constexpr const char* kV5TcbInfo = "cvm/gotdx-quote-v5/sample_tcbinfo_response_v5";
inline constexpr const char* kV4Quote = "cvm/trustee-az-tdx-vtpm/td-quote.bin";
inline constexpr const char* kHclReport = "cvm/trustee-az-tdx-vtpm/hcl-report.bin";

inline constexpr int64_t k2026_02_03 = 1770076800;  // 2026-02-03T00:00:00Z

inline uint32_t le32(const Bytes& b, size_t off) {
  return uint32_t{b[off]} | (uint32_t{b[off + 1]} << 8) | (uint32_t{b[off + 2]} << 16) | (uint32_t{b[off + 3]} << 24);
}
inline void put_le16(Bytes& b, size_t off, uint16_t v) {
  b[off] = static_cast<uint8_t>(v);
  b[off + 1] = static_cast<uint8_t>(v >> 8);
}
inline void put_le32(Bytes& b, size_t off, uint32_t v) {
  for (size_t i = 0; i < 4; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}

// Offsets of the signature-data parts, computed from the raw bytes (not by the parser).
struct Layout {
  size_t sig_len_at, sig_at, key_at, cert_type_at, cert_size_at, qe_report_at, qe_sig_at, auth_size_at, auth_at,
      inner_type_at, inner_size_at, pck_at, end;
};
inline Layout layout(const Bytes& q) {
  Layout l{};
  const uint16_t version = static_cast<uint16_t>(q[0] | (q[1] << 8));
  size_t body_end = 48 + 584;
  if (version == 5) body_end = 54 + le32(q, 50);
  l.sig_len_at = body_end;
  l.sig_at = body_end + 4;
  l.key_at = l.sig_at + 64;
  l.cert_type_at = l.key_at + 64;
  l.cert_size_at = l.cert_type_at + 2;
  l.qe_report_at = l.cert_size_at + 4;
  l.qe_sig_at = l.qe_report_at + 384;
  l.auth_size_at = l.qe_sig_at + 64;
  l.auth_at = l.auth_size_at + 2;
  l.inner_type_at = l.auth_at + (q[l.auth_size_at] | (q[l.auth_size_at + 1] << 8));
  l.inner_size_at = l.inner_type_at + 2;
  l.pck_at = l.inner_size_at + 4;
  l.end = l.pck_at + le32(q, l.inner_size_at);
  return l;
}

}  // namespace tl::tee::testutil
