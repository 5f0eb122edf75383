#include "crypto/kdf.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <memory>

#include "crypto/openssl_util.h"

namespace tl::crypto {
namespace {

using MacPtr = std::unique_ptr<EVP_MAC, FnDeleter<EVP_MAC_free>>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, FnDeleter<EVP_MAC_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, FnDeleter<EVP_MD_CTX_free>>;

constexpr size_t kMaxKdfBits = 65536;

const char* md_name(HashAlg alg) {
  switch (alg) {
    case HashAlg::sha1: return "SHA1";
    case HashAlg::sha256: return "SHA256";
    case HashAlg::sha384: return "SHA384";
    case HashAlg::sha512: return "SHA512";
    case HashAlg::sm3_256: return "SM3";
  }
  return "";
}

std::array<uint8_t, 4> be32(uint32_t v) {
  return {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16), static_cast<uint8_t>(v >> 8),
          static_cast<uint8_t>(v)};
}

Status check_bits(size_t bits, const char* kdf) {
  if (bits == 0 || bits > kMaxKdfBits) {
    return Error{std::string(kdf) + ": " + std::to_string(bits) + " bits requested, must be 1.." +
                 std::to_string(kMaxKdfBits)};
  }
  return {};
}

// Clears the high-order bits a bit count that is not a multiple of 8 leaves unused.
void mask_and_truncate(SecretBytes& out, size_t bits) {
  out.truncate((bits + 7) / 8);
  if (bits % 8 != 0) out.data()[0] &= static_cast<uint8_t>(0xff >> (8 - bits % 8));
}

// One HMAC computation; the EVP_MAC is fetched by the caller.
class Hmac {
 public:
  static Result<Hmac> create(HashAlg alg, ByteView key) {
    MacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
    if (!mac) return Error{openssl_error("HMAC unavailable")};
    MacCtxPtr ctx(EVP_MAC_CTX_new(mac.get()));
    if (!ctx) return Error{"out of memory"};
    Hmac h(std::move(ctx), alg);
    if (!h.init(key)) return Error{openssl_error(std::string("HMAC-") + md_name(alg))};
    return h;
  }
  bool init(ByteView key) {
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(md_name(alg_)), 0),
        OSSL_PARAM_construct_end()};
    // An empty key is legal for HMAC; OpenSSL wants a non-null pointer.
    static const uint8_t kEmpty = 0;
    return EVP_MAC_init(ctx_.get(), key.empty() ? &kEmpty : key.data(), key.size(), params) == 1;
  }
  bool update(ByteView data) {
    return data.empty() || EVP_MAC_update(ctx_.get(), data.data(), data.size()) == 1;
  }
  // Writes digest_size(alg) bytes to out.
  bool finish(uint8_t* out) {
    size_t len = 0;
    return EVP_MAC_final(ctx_.get(), out, &len, digest_size(alg_)) == 1 && len == digest_size(alg_);
  }
  // Restarts with the same key (EVP_MAC_init with a null key keeps it).
  bool restart() { return EVP_MAC_init(ctx_.get(), nullptr, 0, nullptr) == 1; }

 private:
  Hmac(MacCtxPtr ctx, HashAlg alg) : ctx_(std::move(ctx)), alg_(alg) {}
  MacCtxPtr ctx_;
  HashAlg alg_;
};

}  // namespace

Result<Bytes> hmac(HashAlg alg, ByteView key, ByteView data) {
  auto h = Hmac::create(alg, key);
  if (!h) return h.take_error();
  Bytes out(digest_size(alg));
  if (!h->update(data) || !h->finish(out.data())) return Error{openssl_error("HMAC")};
  return out;
}

Result<SecretBytes> kdfa(HashAlg alg, ByteView key, std::string_view label, ByteView context_u,
                         ByteView context_v, size_t bits) {
  if (auto st = check_bits(bits, "KDFa"); !st) return st.take_error();
  auto h = Hmac::create(alg, key);
  if (!h) return h.take_error();
  const size_t dsize = digest_size(alg);
  const size_t blocks = ((bits + 7) / 8 + dsize - 1) / dsize;
  SecretBytes out(blocks * dsize);
  const auto length = be32(static_cast<uint32_t>(bits));
  static const uint8_t kZero = 0;
  for (size_t i = 1; i <= blocks; ++i) {
    const auto counter = be32(static_cast<uint32_t>(i));
    if ((i > 1 && !h->restart()) || !h->update(counter) || !h->update(as_bytes(label)) ||
        !h->update(ByteView(&kZero, 1)) || !h->update(context_u) || !h->update(context_v) ||
        !h->update(length) || !h->finish(out.data() + (i - 1) * dsize)) {
      return Error{openssl_error("KDFa")};
    }
  }
  mask_and_truncate(out, bits);
  return out;
}

Result<SecretBytes> kdfe(HashAlg alg, ByteView z, std::string_view label, ByteView party_u,
                         ByteView party_v, size_t bits) {
  if (auto st = check_bits(bits, "KDFe"); !st) return st.take_error();
  const EVP_MD* md = EVP_get_digestbyname(md_name(alg));
  if (md == nullptr) return Error{std::string("KDFe: digest ") + md_name(alg) + " unavailable"};
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return Error{"out of memory"};
  const size_t dsize = digest_size(alg);
  const size_t blocks = ((bits + 7) / 8 + dsize - 1) / dsize;
  SecretBytes out(blocks * dsize);
  static const uint8_t kZero = 0;
  auto update = [&](ByteView b) { return b.empty() || EVP_DigestUpdate(ctx.get(), b.data(), b.size()) == 1; };
  for (size_t i = 1; i <= blocks; ++i) {
    const auto counter = be32(static_cast<uint32_t>(i));
    unsigned int len = 0;
    if (EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1 || !update(counter) || !update(z) ||
        !update(as_bytes(label)) || !update(ByteView(&kZero, 1)) || !update(party_u) ||
        !update(party_v) || EVP_DigestFinal_ex(ctx.get(), out.data() + (i - 1) * dsize, &len) != 1 ||
        len != dsize) {
      return Error{openssl_error("KDFe")};
    }
  }
  mask_and_truncate(out, bits);
  return out;
}

}  // namespace tl::crypto
