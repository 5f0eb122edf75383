#include "tpm/credential.h"

#include <array>
#include <string>

#include "crypto/aes_cfb.h"
#include "crypto/kdf.h"
#include "crypto/secret_bytes.h"
#include "crypto/seed_encryption.h"
#include "tpm/constants.h"
#include "tpm/internal.h"

namespace tl::tpm {
namespace {

using crypto::SecretBytes;

constexpr uint32_t kCredentialFileMagic = 0xBADCC0DE;
constexpr uint32_t kCredentialFileVersion = 1;
// sizeof(TPMS_ID_OBJECT) = TPM2B_DIGEST (2 + 64) + TPM2B_DIGEST (2 + 64).
constexpr size_t kMaxIdObjectSize = 2 * (2 + kMaxDigestSize);
// sizeof(TPMU_ENCRYPTED_SECRET): an RSA-4096 ciphertext is the largest member.
constexpr size_t kMaxEncryptedSecretSize = kMaxRsaKeyBytes;

// The labels of Part 1, 24.4 (each KDF appends the terminating 0).
constexpr std::string_view kIdentityLabel = "IDENTITY";
constexpr std::string_view kStorageLabel = "STORAGE";
constexpr std::string_view kIntegrityLabel = "INTEGRITY";

void put_u16(Bytes& out, size_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}
void put_u32(Bytes& out, uint32_t v) {
  put_u16(out, v >> 16);
  put_u16(out, v & 0xffff);
}
void put_tpm2b(Bytes& out, ByteView b) {
  put_u16(out, b.size());
  out.insert(out.end(), b.begin(), b.end());
}

Status check_ek(const PublicArea& ek) {
  if (!ek.attributes.restricted || !ek.attributes.decrypt || ek.attributes.sign) {
    return Error{"EK: not a restricted decryption key (attributes " + internal::hex32(ek.attributes.raw) + ")"};
  }
  const SymmetricDef& sym = ek.rsa ? ek.rsa->symmetric : ek.ecc ? ek.ecc->symmetric : SymmetricDef{};
  if (!ek.rsa && !ek.ecc) return Error{"EK: neither an RSA nor an ECC key"};
  if (sym.algorithm != alg::kAes || sym.mode != alg::kCfb) {
    return Error{"EK: symmetric definition " + alg_name(sym.algorithm) + "/" + alg_name(sym.mode) +
                 ", credential protection here supports TPM_ALG_AES/TPM_ALG_CFB"};
  }
  if (sym.key_bits != 128 && sym.key_bits != 192 && sym.key_bits != 256) {
    return Error{"EK: AES key size " + std::to_string(sym.key_bits) + " bits"};
  }
  return {};
}

Status check_name(ByteView name) {
  if (name.size() < 2) return Error{"AK name: " + std::to_string(name.size()) + " bytes, too short"};
  const uint16_t id = static_cast<uint16_t>((name[0] << 8) | name[1]);
  auto alg = crypto::hash_from_tpm_alg_id(id);
  if (!alg) return Error{"AK name: unknown name algorithm " + alg_name(id)};
  if (name.size() != 2 + crypto::digest_size(*alg)) {
    return Error{"AK name: " + std::to_string(name.size()) + " bytes, " + alg_name(id) + " names have " +
                 std::to_string(2 + crypto::digest_size(*alg))};
  }
  return {};
}

struct Seed {
  SecretBytes seed;
  Bytes encrypted;  // TPMU_ENCRYPTED_SECRET contents (without the TPM2B size)
};

// Part 1, Annex B.10.3 (RSA) and C.6.4 (ECC): a seed and its protection to the EK.
Result<Seed> make_seed(const PublicArea& ek, const crypto::PublicKey& key) {
  const crypto::HashAlg alg = ek.name_alg;
  const size_t bits = crypto::digest_size(alg) * 8;
  if (ek.rsa) {
    TL_TPM_TRY(seed, crypto::random_secret(bits / 8));
    Bytes label(kIdentityLabel.begin(), kIdentityLabel.end());
    label.push_back(0);  // OAEP labels carry the terminating NUL
    TL_TPM_TRY(encrypted, crypto::rsa_oaep_encrypt(key, alg, label, seed.view()));
    return Seed{std::move(seed), std::move(encrypted)};
  }
  TL_TPM_TRY(ecdh, crypto::ecdh_ephemeral(key));
  TL_TPM_TRY(seed, crypto::kdfe(alg, ecdh.z.view(), kIdentityLabel, ecdh.x, ek.ecc->x, bits));
  Bytes point;  // TPMS_ECC_POINT
  put_tpm2b(point, ecdh.x);
  put_tpm2b(point, ecdh.y);
  return Seed{std::move(seed), std::move(point)};
}

}  // namespace

Result<MadeCredential> make_credential(const PublicArea& ek, ByteView ak_name, ByteView secret) {
  TL_TPM_CHECK(check_ek(ek));
  TL_TPM_CHECK(check_name(ak_name));
  const crypto::HashAlg alg = ek.name_alg;
  const size_t digest_bytes = crypto::digest_size(alg);
  if (secret.empty() || secret.size() > digest_bytes) {
    return Error{"credential: " + std::to_string(secret.size()) + " bytes, must be 1.." +
                 std::to_string(digest_bytes) + " (the EK nameAlg's digest size)"};
  }
  auto key = ek.public_key();
  if (!key) return with_context("EK", key.take_error());
  auto seed = make_seed(ek, *key);
  if (!seed) return with_context("EK seed", seed.take_error());

  const uint16_t sym_bits = ek.rsa ? ek.rsa->symmetric.key_bits : ek.ecc->symmetric.key_bits;
  TL_TPM_TRY(sym_key, crypto::kdfa(alg, seed->seed.view(), kStorageLabel, ak_name, {}, sym_bits));
  // encIdentity = CFB(symKey, IV = 0, TPM2B_DIGEST(credential)).
  SecretBytes plain(2 + secret.size());
  plain.data()[0] = static_cast<uint8_t>(secret.size() >> 8);
  plain.data()[1] = static_cast<uint8_t>(secret.size());
  std::copy(secret.begin(), secret.end(), plain.data() + 2);
  const std::array<uint8_t, 16> zero_iv{};
  TL_TPM_TRY(enc_identity, crypto::aes_cfb_encrypt(sym_key, zero_iv, plain.view()));

  TL_TPM_TRY(hmac_key, crypto::kdfa(alg, seed->seed.view(), kIntegrityLabel, {}, {}, digest_bytes * 8));
  Bytes mac_input = enc_identity;
  mac_input.insert(mac_input.end(), ak_name.begin(), ak_name.end());
  TL_TPM_TRY(outer_hmac, crypto::hmac(alg, hmac_key.view(), mac_input));

  MadeCredential out;
  Bytes id_object;
  put_tpm2b(id_object, outer_hmac);
  id_object.insert(id_object.end(), enc_identity.begin(), enc_identity.end());
  put_tpm2b(out.credential_blob, id_object);
  put_tpm2b(out.secret, seed->encrypted);
  return out;
}

Bytes credential_file(const MadeCredential& made) {
  Bytes out;
  put_u32(out, kCredentialFileMagic);
  put_u32(out, kCredentialFileVersion);
  out.insert(out.end(), made.credential_blob.begin(), made.credential_blob.end());
  out.insert(out.end(), made.secret.begin(), made.secret.end());
  return out;
}

Result<MadeCredential> parse_credential_file(ByteView file) {
  ByteReader r(file);
  const size_t magic_at = r.offset();
  TL_TPM_TRY(magic, r.u32_be("credential file magic"));
  if (magic != kCredentialFileMagic) {
    return r.error_at(magic_at, "credential file magic",
                      internal::hex32(magic) + ", expected " + internal::hex32(kCredentialFileMagic));
  }
  const size_t version_at = r.offset();
  TL_TPM_TRY(version, r.u32_be("credential file version"));
  if (version != kCredentialFileVersion) {
    return r.error_at(version_at, "credential file version", std::to_string(version) + ", expected 1");
  }
  const size_t blob_at = r.position();
  TL_TPM_TRY(blob, internal::read_tpm2b(r, kMaxIdObjectSize, "TPM2B_ID_OBJECT"));
  (void)blob;
  const size_t secret_at = r.position();
  TL_TPM_TRY(secret, internal::read_tpm2b(r, kMaxEncryptedSecretSize, "TPM2B_ENCRYPTED_SECRET"));
  (void)secret;
  TL_TPM_CHECK(internal::expect_end(r, "credential file"));
  MadeCredential out;
  out.credential_blob.assign(file.begin() + blob_at, file.begin() + secret_at);
  out.secret.assign(file.begin() + secret_at, file.end());
  return out;
}

}  // namespace tl::tpm
