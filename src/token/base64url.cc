#include "token/base64url.h"

namespace tl::token {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Sextet value per byte, 0xff for bytes outside the alphabet: evidence carries
// whole event logs in base64url, so decoding is on the attestation hot path.
struct SextetTable {
  uint8_t v[256];
  constexpr SextetTable() : v() {
    for (int i = 0; i < 256; ++i) v[i] = 0xff;
    for (int i = 0; i < 64; ++i) v[static_cast<unsigned char>(kAlphabet[i])] = static_cast<uint8_t>(i);
  }
};
constexpr SextetTable kSextets;

int sextet(char c) {
  const uint8_t v = kSextets.v[static_cast<unsigned char>(c)];
  return v == 0xff ? -1 : v;
}

std::string describe(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x21 && u < 0x7f) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 0xf];
}

}  // namespace

std::string base64url_encode(ByteView bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  out.resize(bytes.size() / 3 * 4);
  char* o = out.data();
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3, o += 4) {
    const uint32_t v = (uint32_t{bytes[i]} << 16) | (uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    o[0] = kAlphabet[(v >> 18) & 63];
    o[1] = kAlphabet[(v >> 12) & 63];
    o[2] = kAlphabet[(v >> 6) & 63];
    o[3] = kAlphabet[v & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest == 1) {
    const uint32_t v = uint32_t{bytes[i]} << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (rest == 2) {
    const uint32_t v = (uint32_t{bytes[i]} << 16) | (uint32_t{bytes[i + 1]} << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

Result<Bytes> base64url_decode(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (kSextets.v[static_cast<unsigned char>(text[i])] == 0xff) {
      if (text[i] == '=') {
        return Error{"padding '=' at position " + std::to_string(i) + " (base64url in JWS is unpadded)"};
      }
      return Error{"invalid base64url character " + describe(text[i]) + " at position " +
                   std::to_string(i)};
    }
  }
  if (text.size() % 4 == 1) {
    return Error{"invalid base64url length " + std::to_string(text.size()) + " (4k+1 characters)"};
  }
  Bytes out(text.size() / 4 * 3);
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  uint8_t* o = out.data();
  size_t i = 0;
  for (; i + 4 <= text.size(); i += 4, o += 3) {
    const uint32_t v = (uint32_t{kSextets.v[in[i]]} << 18) | (uint32_t{kSextets.v[in[i + 1]]} << 12) |
                       (uint32_t{kSextets.v[in[i + 2]]} << 6) | uint32_t{kSextets.v[in[i + 3]]};
    o[0] = static_cast<uint8_t>(v >> 16);
    o[1] = static_cast<uint8_t>(v >> 8);
    o[2] = static_cast<uint8_t>(v);
  }
  const size_t rest = text.size() - i;
  if (rest == 2) {
    const int a = sextet(text[i]);
    const int b = sextet(text[i + 1]);
    if ((b & 0x0f) != 0) {
      return Error{"non-canonical base64url: unused bits set in the character at position " +
                   std::to_string(i + 1)};
    }
    out.push_back(static_cast<uint8_t>((a << 2) | (b >> 4)));
  } else if (rest == 3) {
    const int a = sextet(text[i]);
    const int b = sextet(text[i + 1]);
    const int c = sextet(text[i + 2]);
    if ((c & 0x03) != 0) {
      return Error{"non-canonical base64url: unused bits set in the character at position " +
                   std::to_string(i + 2)};
    }
    out.push_back(static_cast<uint8_t>((a << 2) | (b >> 4)));
    out.push_back(static_cast<uint8_t>(((b & 0x0f) << 4) | (c >> 2)));
  }
  return out;
}

}  // namespace tl::token
