#include "crypto/b64url.h"

#include <array>

namespace tl::crypto {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<int8_t, 256> make_values() {
  std::array<int8_t, 256> v{};
  for (auto& x : v) x = -1;
  for (int i = 0; i < 64; ++i) v[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  return v;
}
constexpr std::array<int8_t, 256> kValues = make_values();

}  // namespace

std::string b64url_encode(ByteView bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  uint32_t acc = 0;
  int nbits = 0;
  for (uint8_t b : bytes) {
    acc = (acc << 8) | b;
    nbits += 8;
    while (nbits >= 6) {
      nbits -= 6;
      out += kAlphabet[(acc >> nbits) & 63];
    }
  }
  if (nbits > 0) out += kAlphabet[(acc << (6 - nbits)) & 63];
  return out;
}

Result<SecretBytes> b64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) {
    return Error{"invalid base64url length " + std::to_string(text.size()) + " (4k+1 characters)"};
  }
  SecretBytes out(text.size() * 3 / 4);
  size_t n = 0;
  uint32_t acc = 0;
  int nbits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const int v = kValues[static_cast<unsigned char>(text[i])];
    if (v < 0) {
      return Error{text[i] == '=' ? "base64url padding '=' at position " + std::to_string(i) + " (unpadded expected)"
                                  : "invalid base64url character at position " + std::to_string(i)};
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out.data()[n++] = static_cast<uint8_t>(acc >> nbits);
    }
  }
  if ((acc & ((1u << nbits) - 1)) != 0) {
    return Error{"non-canonical base64url: unused bits set in the last character"};
  }
  out.truncate(n);
  return out;
}

}  // namespace tl::crypto
