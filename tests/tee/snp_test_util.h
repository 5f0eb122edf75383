// Shared helpers of the SEV-SNP tests: loading the vectors under
// shared/vectors/cvm (never copied into the repo).
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <string>

#include "common/hex.h"
#include "crypto/cert_chain.h"
#include "support/test_support.h"
#include "tee/check.h"

namespace tl::tee::snptest {

// 2026-01-01T00:00:00Z: inside the validity of every certificate in the vectors.
inline constexpr int64_t kAt = 1767225600;

inline Bytes hex_file(const std::filesystem::path& p) {
  std::string text = test::read_text(p);
  text.erase(std::remove_if(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c) != 0; }),
             text.end());
  auto b = from_hex(text);
  EXPECT_TRUE(b.ok()) << p;
  return b ? *b : Bytes{};
}

inline Bytes first_der(ByteView pem_or_der) {
  auto certs = crypto::parse_certificates(pem_or_der);
  EXPECT_TRUE(certs.ok()) << (certs ? "" : certs.error().message);
  return certs && !certs->empty() ? (*certs)[0] : Bytes{};
}

// Standard or URL-safe base64, padding optional.
inline Bytes base64_any(std::string_view s) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  Bytes out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    if (c == '=' || std::isspace(static_cast<unsigned char>(c))) continue;
    const int v = val(c);
    if (v < 0) {
      ADD_FAILURE() << "bad base64 character";
      return {};
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

inline const Check* find_check(const std::vector<Check>& checks, std::string_view name) {
  for (const auto& c : checks)
    if (c.name == name) return &c;
  return nullptr;
}

inline std::string describe(const std::vector<Check>& checks) {
  std::string s;
  for (const auto& c : checks) s += c.name + (c.passed ? " ok: " : " FAILED [" + c.reason + "]: ") + c.detail + "\n";
  return s;
}

// The SNP report inside an Azure HCL report: bytes [32, 32 + 1184).
inline Bytes snp_from_hcl(ByteView hcl) {
  if (hcl.size() < 32 + 1184) {
    ADD_FAILURE() << "HCL report too short";
    return {};
  }
  return Bytes(hcl.begin() + 32, hcl.begin() + 32 + 1184);
}

}  // namespace tl::tee::snptest
