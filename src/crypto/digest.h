// Hash algorithms as the TPM names them, and digest computation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/hex.h"
#include "common/result.h"

namespace tl::crypto {

enum class HashAlg : uint8_t { sha1, sha256, sha384, sha512, sm3_256 };

inline constexpr HashAlg kAllHashAlgs[] = {HashAlg::sha1, HashAlg::sha256, HashAlg::sha384,
                                           HashAlg::sha512, HashAlg::sm3_256};

// "sha1", "sha256", "sha384", "sha512", "sm3_256" (tpm2-tools spelling).
std::string_view hash_name(HashAlg alg);
std::optional<HashAlg> hash_from_name(std::string_view name);
size_t digest_size(HashAlg alg);

// TPM_ALG_ID values (TPM 2.0 Part 2, table 9).
uint16_t tpm_alg_id(HashAlg alg);
std::optional<HashAlg> hash_from_tpm_alg_id(uint16_t id);

// One-shot digest. Fails only if OpenSSL lacks the algorithm (e.g. SM3 in a FIPS build).
Result<Bytes> digest(HashAlg alg, ByteView data);

// Incremental digest; cheap to reuse. Not copyable.
class Hasher {
 public:
  static Result<Hasher> create(HashAlg alg);
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;
  ~Hasher();

  void update(ByteView data);
  Bytes finish();  // resets for reuse with the same algorithm

 private:
  Hasher(HashAlg alg, void* ctx) : alg_(alg), ctx_(ctx) {}
  HashAlg alg_;
  void* ctx_;  // EVP_MD_CTX*, opaque here so no caller sees OpenSSL
};

// PCR extend: new = H(old || digest). Both must be digest_size(alg) long.
Result<Bytes> pcr_extend(HashAlg alg, ByteView old_value, ByteView digest);

}  // namespace tl::crypto
