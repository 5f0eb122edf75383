// TPMT_PUBLIC / TPM2B_PUBLIC (TPM 2.0 Part 2, 12.2): the public area of a TPM key,
// its TPM Name, and conversion to a crypto::PublicKey. RSA and ECC keys only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/hex.h"
#include "common/result.h"
#include "crypto/digest.h"
#include "crypto/public_key.h"

namespace tl::tpm {

// TPMA_OBJECT, decoded (Part 2, 8.3). Reserved bits are rejected by the reader.
struct ObjectAttributes {
  uint32_t raw = 0;
  bool fixed_tpm = false;              // bit 1
  bool st_clear = false;               // bit 2
  bool fixed_parent = false;           // bit 4
  bool sensitive_data_origin = false;  // bit 5
  bool user_with_auth = false;         // bit 6
  bool admin_with_policy = false;      // bit 7
  bool no_da = false;                  // bit 10
  bool encrypted_duplication = false;  // bit 11
  bool restricted = false;             // bit 16
  bool decrypt = false;                // bit 17
  bool sign = false;                   // bit 18 (sign / encrypt)
  bool x509_sign = false;              // bit 19

  static ObjectAttributes decode(uint32_t raw);
  std::vector<std::string> names() const;  // {"fixedTPM", "restricted", …} in bit order
};

// TPMT_SYM_DEF_OBJECT; algorithm == TPM_ALG_NULL means none (key_bits/mode are 0).
struct SymmetricDef {
  uint16_t algorithm = 0;
  uint16_t key_bits = 0;
  uint16_t mode = 0;
};

// TPMT_RSA_SCHEME / TPMT_ECC_SCHEME / TPMT_KDF_SCHEME; scheme == TPM_ALG_NULL means
// none. hash is the details' hashAlg (nullopt for schemes without one, e.g. RSAES).
struct Scheme {
  uint16_t scheme = 0;
  std::optional<crypto::HashAlg> hash;
  uint16_t count = 0;  // ECDAA only
};

struct RsaParams {
  SymmetricDef symmetric;
  Scheme scheme;
  uint16_t key_bits = 0;
  uint32_t exponent = 0;  // as on the wire; 0 means 65537 (see effective_exponent)
  Bytes modulus;          // unique.rsa, big-endian

  uint32_t effective_exponent() const { return exponent == 0 ? 65537u : exponent; }
};

struct EccParams {
  SymmetricDef symmetric;
  Scheme scheme;
  uint16_t curve_id = 0;  // TPM_ECC_CURVE
  Scheme kdf;
  Bytes x;  // unique.ecc
  Bytes y;
};

struct PublicArea {
  uint16_t type = 0;  // TPM_ALG_RSA or TPM_ALG_ECC
  crypto::HashAlg name_alg = crypto::HashAlg::sha256;
  ObjectAttributes attributes;
  Bytes auth_policy;
  std::optional<RsaParams> rsa;  // set when type == TPM_ALG_RSA
  std::optional<EccParams> ecc;  // set when type == TPM_ALG_ECC
  Bytes marshaled;               // the exact TPMT_PUBLIC bytes that were parsed

  // TPM Name: nameAlg (u16, big-endian) || H_nameAlg(TPMT_PUBLIC).
  Result<Bytes> name() const;
  // The key as a crypto::PublicKey (RSA n/e; ECC on P-256/P-384/P-521).
  Result<crypto::PublicKey> public_key() const;
  // The signing scheme the key is restricted to, or nullopt when its scheme is TPM_ALG_NULL.
  const Scheme* signing_scheme() const;
};

// Whole-buffer parsers (trailing bytes are an error); errors name the field and
// the byte offset (base_offset is added, for a structure inside a larger buffer).
Result<PublicArea> parse_tpmt_public(ByteView data, size_t base_offset = 0);
Result<PublicArea> parse_tpm2b_public(ByteView data);  // u16 size + TPMT_PUBLIC of that size
// TPM2B_PUBLIC when the leading u16 equals the remaining length, else TPMT_PUBLIC.
Result<PublicArea> parse_public_area(ByteView data);

}  // namespace tl::tpm
