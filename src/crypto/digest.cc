#include "crypto/digest.h"

#include <openssl/evp.h>

#include <array>

namespace tl::crypto {
namespace {

struct AlgInfo {
  HashAlg alg;
  std::string_view name;
  const char* openssl_name;
  uint16_t tpm_id;
  size_t size;
};

constexpr std::array<AlgInfo, 5> kAlgs = {{
    {HashAlg::sha1, "sha1", "SHA1", 0x0004, 20},
    {HashAlg::sha256, "sha256", "SHA256", 0x000B, 32},
    {HashAlg::sha384, "sha384", "SHA384", 0x000C, 48},
    {HashAlg::sha512, "sha512", "SHA512", 0x000D, 64},
    {HashAlg::sm3_256, "sm3_256", "SM3", 0x0012, 32},
}};

const AlgInfo& info(HashAlg alg) { return kAlgs[static_cast<size_t>(alg)]; }

// Fetching an EVP_MD is a provider lookup; do it once per algorithm.
const EVP_MD* fetched_md(HashAlg alg) {
  static const std::array<EVP_MD*, 5> mds = [] {
    std::array<EVP_MD*, 5> a{};
    for (size_t i = 0; i < kAlgs.size(); ++i) a[i] = EVP_MD_fetch(nullptr, kAlgs[i].openssl_name, nullptr);
    return a;
  }();
  return mds[static_cast<size_t>(alg)];
}

Error missing(HashAlg alg) {
  return Error{"hash algorithm " + std::string(hash_name(alg)) +
               " is not available in this OpenSSL build"};
}

}  // namespace

std::string_view hash_name(HashAlg alg) { return info(alg).name; }
size_t digest_size(HashAlg alg) { return info(alg).size; }
uint16_t tpm_alg_id(HashAlg alg) { return info(alg).tpm_id; }

std::optional<HashAlg> hash_from_name(std::string_view name) {
  for (const auto& a : kAlgs)
    if (a.name == name) return a.alg;
  if (name == "sm3") return HashAlg::sm3_256;
  return std::nullopt;
}

std::optional<HashAlg> hash_from_tpm_alg_id(uint16_t id) {
  for (const auto& a : kAlgs)
    if (a.tpm_id == id) return a.alg;
  return std::nullopt;
}

namespace {
// One reusable context per algorithm and thread: EVP_Digest would allocate and
// free a context on every call, which dominated hashing many small event data.
struct ThreadContexts {
  std::array<EVP_MD_CTX*, kAlgs.size()> ctx{};
  ~ThreadContexts() {
    for (EVP_MD_CTX* c : ctx) EVP_MD_CTX_free(c);
  }
};
}  // namespace

Result<Bytes> digest(HashAlg alg, ByteView data) {
  const EVP_MD* md = fetched_md(alg);
  if (md == nullptr) return missing(alg);
  thread_local ThreadContexts contexts;
  EVP_MD_CTX*& ctx = contexts.ctx[static_cast<size_t>(alg)];
  if (ctx == nullptr && (ctx = EVP_MD_CTX_new()) == nullptr) return Error{"out of memory"};
  Bytes out(digest_size(alg));
  unsigned int len = 0;
  if (EVP_DigestInit_ex2(ctx, md, nullptr) != 1 || EVP_DigestUpdate(ctx, data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx, out.data(), &len) != 1 || len != out.size()) {
    return Error{"digest " + std::string(hash_name(alg)) + " failed"};
  }
  return out;
}

Result<Hasher> Hasher::create(HashAlg alg) {
  const EVP_MD* md = fetched_md(alg);
  if (md == nullptr) return missing(alg);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr || EVP_DigestInit_ex2(ctx, md, nullptr) != 1) {
    EVP_MD_CTX_free(ctx);
    return Error{"cannot initialise " + std::string(hash_name(alg))};
  }
  return Hasher(alg, ctx);
}

Hasher::Hasher(Hasher&& o) noexcept : alg_(o.alg_), ctx_(o.ctx_) { o.ctx_ = nullptr; }
Hasher& Hasher::operator=(Hasher&& o) noexcept {
  if (this != &o) {
    EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_));
    alg_ = o.alg_;
    ctx_ = o.ctx_;
    o.ctx_ = nullptr;
  }
  return *this;
}
Hasher::~Hasher() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Hasher::update(ByteView data) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size());
}

Bytes Hasher::finish() {
  auto* ctx = static_cast<EVP_MD_CTX*>(ctx_);
  Bytes out(digest_size(alg_));
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, out.data(), &len);
  EVP_DigestInit_ex2(ctx, nullptr, nullptr);
  return out;
}

Result<Bytes> pcr_extend(HashAlg alg, ByteView old_value, ByteView digest_value) {
  const size_t n = digest_size(alg);
  if (old_value.size() != n || digest_value.size() != n) {
    return Error{"pcr_extend(" + std::string(hash_name(alg)) + "): expected " + std::to_string(n) +
                 "-byte values, got " + std::to_string(old_value.size()) + " and " +
                 std::to_string(digest_value.size())};
  }
  const EVP_MD* md = fetched_md(alg);
  if (md == nullptr) return missing(alg);
  uint8_t buf[128];
  std::copy(old_value.begin(), old_value.end(), buf);
  std::copy(digest_value.begin(), digest_value.end(), buf + n);
  Bytes out(n);
  unsigned int len = 0;
  if (EVP_Digest(buf, 2 * n, out.data(), &len, md, nullptr) != 1) {
    return Error{"pcr extend digest failed"};
  }
  return out;
}

}  // namespace tl::crypto
