#include "vector_logs.h"

#include <cctype>
#include <sstream>

#include "crypto/public_key.h"
#include "support/test_support.h"
#include "tpm/pcr_file.h"
#include "tpm/quote.h"

namespace tl::test {

Result<Bytes> decode_base64(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  Bytes out;
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      ++pad;
      continue;
    }
    const int v = value(c);
    if (v < 0 || pad > 0) return Error{"invalid base64 character at position " + std::to_string(i)};
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>(acc >> bits));
    }
  }
  if (pad > 2 || bits >= 6) return Error{"truncated base64"};
  return out;
}

Result<tpm::PcrValues> parse_sysfs_pcr_lines(const std::string& text) {
  tpm::PcrValues out;
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    std::istringstream ls(line);
    std::string tag, bank, hex;
    uint32_t pcr = 0;
    if (!(ls >> tag >> bank >> pcr >> hex) || tag != "PCR") {
      return Error{"line " + std::to_string(lineno) + ": not 'PCR bank N HEX'"};
    }
    auto alg = crypto::hash_from_name(bank);
    auto value = from_hex(hex);
    if (!alg || !value) return Error{"line " + std::to_string(lineno) + ": bad bank or hex"};
    out[*alg][pcr] = std::move(*value);
  }
  return out;
}

tpm::PcrValues pcrs_from_json(const nlohmann::json& j) {
  tpm::PcrValues out;
  for (const auto& [bank, pcrs] : j.items()) {
    auto alg = crypto::hash_from_name(bank);
    if (!alg) throw std::runtime_error("unknown bank " + bank);
    for (const auto& [index, hex] : pcrs.items()) {
      auto v = from_hex(hex.get<std::string>());
      if (!v) throw std::runtime_error(v.error().message);
      out[*alg][static_cast<uint32_t>(std::stoul(index))] = std::move(*v);
    }
  }
  return out;
}

Result<tpm::VerifiedQuote> verify_recorded_ovmf_quote(const std::filesystem::path& dir) {
  auto pcrs = tpm::parse_pcr_file(read_file(dir / "quote.pcrs"));
  if (!pcrs) return with_context("quote.pcrs", pcrs.take_error());
  std::string nonce_text = read_text(dir / "quote_nonce.txt");
  while (!nonce_text.empty() && std::isspace(static_cast<unsigned char>(nonce_text.back()))) nonce_text.pop_back();
  auto nonce = from_hex(nonce_text);
  if (!nonce) return with_context("quote_nonce.txt", nonce.take_error());
  auto ak = crypto::PublicKey::from_pem(read_text(dir / "ak.pub"));
  if (!ak) return with_context("ak.pub", ak.take_error());
  return tpm::verify_quote(*ak, read_file(dir / "quote.msg"), read_file(dir / "quote.sig"), *pcrs, *nonce,
                           {{crypto::HashAlg::sha256, {0, 1, 2, 3, 4, 5, 6, 7}}});
}

}  // namespace tl::test
