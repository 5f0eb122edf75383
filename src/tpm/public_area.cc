#include "tpm/public_area.h"

#include "tpm/constants.h"
#include "tpm/internal.h"

namespace tl::tpm {

namespace {

using internal::read_tpm2b;

// Bits of TPMA_OBJECT defined by Part 2 (8.3.2); the rest are reserved and must be 0.
constexpr uint32_t kDefinedAttributeBits = (1u << 1) | (1u << 2) | (1u << 4) | (1u << 5) |
                                           (1u << 6) | (1u << 7) | (1u << 10) | (1u << 11) |
                                           (1u << 16) | (1u << 17) | (1u << 18) | (1u << 19);

Result<crypto::HashAlg> read_hash(ByteReader& r, const std::string& field) {
  const size_t at = r.offset();
  TL_TPM_TRY(id, r.u16_be(field));
  auto h = crypto::hash_from_tpm_alg_id(id);
  if (!h) return r.error_at(at, field, "unknown hash algorithm " + alg_name(id));
  return *h;
}

Result<SymmetricDef> read_symmetric(ByteReader& r, const std::string& field) {
  SymmetricDef d;
  const size_t at = r.offset();
  TL_TPM_TRY(algorithm, r.u16_be(field + ".algorithm"));
  d.algorithm = algorithm;
  if (algorithm == alg::kNull) return d;
  if (algorithm != alg::kAes && algorithm != alg::kSm4 && algorithm != alg::kCamellia &&
      algorithm != alg::kTdes) {
    return r.error_at(at, field + ".algorithm", "unknown symmetric algorithm " + alg_name(algorithm));
  }
  TL_TPM_TRY(key_bits, r.u16_be(field + ".keyBits"));
  d.key_bits = key_bits;
  const size_t mode_at = r.offset();
  TL_TPM_TRY(mode, r.u16_be(field + ".mode"));
  if (mode != alg::kCfb && mode != alg::kCbc && mode != alg::kCtr && mode != alg::kOfb &&
      mode != alg::kEcb && mode != alg::kNull) {
    return r.error_at(mode_at, field + ".mode", "unknown block cipher mode " + alg_name(mode));
  }
  d.mode = mode;
  return d;
}

// Reads a scheme selector and its details. `allowed` lists the schemes valid in
// this position; ECDAA carries an extra count, RSAES has no details at all.
Result<Scheme> read_scheme(ByteReader& r, const std::string& field,
                           std::initializer_list<uint16_t> allowed) {
  Scheme s;
  const size_t at = r.offset();
  TL_TPM_TRY(scheme, r.u16_be(field + ".scheme"));
  s.scheme = scheme;
  if (scheme == alg::kNull) return s;
  bool ok = false;
  for (uint16_t a : allowed) ok = ok || a == scheme;
  if (!ok) return r.error_at(at, field + ".scheme", "scheme " + alg_name(scheme) + " not allowed here");
  if (scheme == alg::kRsaes) return s;
  TL_TPM_TRY(hash, read_hash(r, field + ".details.hashAlg"));
  s.hash = hash;
  if (scheme == alg::kEcdaa) {
    TL_TPM_TRY(count, r.u16_be(field + ".details.count"));
    s.count = count;
  }
  return s;
}

size_t curve_bytes(uint16_t curve_id) {
  switch (curve_id) {
    case curve::kNistP192: return 24;
    case curve::kNistP224: return 28;
    case curve::kNistP256: return 32;
    case curve::kNistP384: return 48;
    case curve::kNistP521: return 66;
    case curve::kBnP256: return 32;
    case curve::kBnP638: return 80;
    case curve::kSm2P256: return 32;
    default: return 0;
  }
}

Result<RsaParams> read_rsa(ByteReader& r) {
  RsaParams p;
  TL_TPM_TRY(sym, read_symmetric(r, "TPMT_PUBLIC.parameters.rsaDetail.symmetric"));
  p.symmetric = sym;
  TL_TPM_TRY(scheme, read_scheme(r, "TPMT_PUBLIC.parameters.rsaDetail.scheme",
                                 {alg::kRsassa, alg::kRsapss, alg::kRsaes, alg::kOaep}));
  p.scheme = scheme;
  const size_t bits_at = r.offset();
  TL_TPM_TRY(key_bits, r.u16_be("TPMT_PUBLIC.parameters.rsaDetail.keyBits"));
  if (key_bits != 1024 && key_bits != 2048 && key_bits != 3072 && key_bits != 4096) {
    return r.error_at(bits_at, "TPMT_PUBLIC.parameters.rsaDetail.keyBits",
                      "unsupported RSA key size " + std::to_string(key_bits));
  }
  p.key_bits = key_bits;
  TL_TPM_TRY(exponent, r.u32_be("TPMT_PUBLIC.parameters.rsaDetail.exponent"));
  p.exponent = exponent;
  const size_t unique_at = r.offset();
  TL_TPM_TRY(modulus, read_tpm2b(r, kMaxRsaKeyBytes, "TPMT_PUBLIC.unique.rsa"));
  // Empty is a template (no key yet); otherwise the modulus must match keyBits.
  if (!modulus.empty() && modulus.size() * 8 != key_bits) {
    return r.error_at(unique_at, "TPMT_PUBLIC.unique.rsa.size",
                      std::to_string(modulus.size()) + " bytes but keyBits is " +
                          std::to_string(key_bits));
  }
  p.modulus.assign(modulus.begin(), modulus.end());
  return p;
}

Result<EccParams> read_ecc(ByteReader& r) {
  EccParams p;
  TL_TPM_TRY(sym, read_symmetric(r, "TPMT_PUBLIC.parameters.eccDetail.symmetric"));
  p.symmetric = sym;
  TL_TPM_TRY(scheme, read_scheme(r, "TPMT_PUBLIC.parameters.eccDetail.scheme",
                                 {alg::kEcdsa, alg::kEcdaa, alg::kSm2, alg::kEcschnorr,
                                  alg::kEcdh, alg::kEcmqv}));
  p.scheme = scheme;
  const size_t curve_at = r.offset();
  TL_TPM_TRY(curve_id, r.u16_be("TPMT_PUBLIC.parameters.eccDetail.curveID"));
  const size_t coord = curve_bytes(curve_id);
  if (coord == 0) {
    return r.error_at(curve_at, "TPMT_PUBLIC.parameters.eccDetail.curveID",
                      "unknown curve " + internal::hex16(curve_id));
  }
  p.curve_id = curve_id;
  TL_TPM_TRY(kdf, read_scheme(r, "TPMT_PUBLIC.parameters.eccDetail.kdf",
                              {alg::kMgf1, alg::kKdf1Sp800_56a, alg::kKdf2, alg::kKdf1Sp800_108}));
  p.kdf = kdf;
  const size_t x_at = r.offset();
  TL_TPM_TRY(x, read_tpm2b(r, std::max(coord, kMaxEccKeyBytes), "TPMT_PUBLIC.unique.ecc.x"));
  const size_t y_at = r.offset();
  TL_TPM_TRY(y, read_tpm2b(r, std::max(coord, kMaxEccKeyBytes), "TPMT_PUBLIC.unique.ecc.y"));
  if (!x.empty() && x.size() != coord) {
    return r.error_at(x_at, "TPMT_PUBLIC.unique.ecc.x.size",
                      std::to_string(x.size()) + " bytes, curve needs " + std::to_string(coord));
  }
  if (!y.empty() && y.size() != coord) {
    return r.error_at(y_at, "TPMT_PUBLIC.unique.ecc.y.size",
                      std::to_string(y.size()) + " bytes, curve needs " + std::to_string(coord));
  }
  p.x.assign(x.begin(), x.end());
  p.y.assign(y.begin(), y.end());
  return p;
}

}  // namespace

ObjectAttributes ObjectAttributes::decode(uint32_t raw) {
  ObjectAttributes a;
  a.raw = raw;
  auto bit = [raw](int n) { return ((raw >> n) & 1u) != 0; };
  a.fixed_tpm = bit(1);
  a.st_clear = bit(2);
  a.fixed_parent = bit(4);
  a.sensitive_data_origin = bit(5);
  a.user_with_auth = bit(6);
  a.admin_with_policy = bit(7);
  a.no_da = bit(10);
  a.encrypted_duplication = bit(11);
  a.restricted = bit(16);
  a.decrypt = bit(17);
  a.sign = bit(18);
  a.x509_sign = bit(19);
  return a;
}

std::vector<std::string> ObjectAttributes::names() const {
  std::vector<std::string> out;
  const std::pair<bool, const char*> all[] = {
      {fixed_tpm, "fixedTPM"},         {st_clear, "stClear"},
      {fixed_parent, "fixedParent"},   {sensitive_data_origin, "sensitiveDataOrigin"},
      {user_with_auth, "userWithAuth"}, {admin_with_policy, "adminWithPolicy"},
      {no_da, "noDA"},                 {encrypted_duplication, "encryptedDuplication"},
      {restricted, "restricted"},      {decrypt, "decrypt"},
      {sign, "sign"},                  {x509_sign, "x509sign"}};
  for (const auto& [set, name] : all) {
    if (set) out.emplace_back(name);
  }
  return out;
}

Result<Bytes> PublicArea::name() const {
  TL_TPM_TRY(h, crypto::digest(name_alg, marshaled));
  const uint16_t id = crypto::tpm_alg_id(name_alg);
  Bytes out{static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id & 0xff)};
  out.insert(out.end(), h.begin(), h.end());
  return out;
}

Result<crypto::PublicKey> PublicArea::public_key() const {
  if (rsa) {
    if (rsa->modulus.empty()) return Error{"TPMT_PUBLIC.unique.rsa is empty (a template, not a key)"};
    return crypto::PublicKey::from_rsa(rsa->modulus, rsa->effective_exponent());
  }
  if (ecc) {
    crypto::Curve c;
    switch (ecc->curve_id) {
      case curve::kNistP256: c = crypto::Curve::p256; break;
      case curve::kNistP384: c = crypto::Curve::p384; break;
      case curve::kNistP521: c = crypto::Curve::p521; break;
      default:
        return Error{"TPMT_PUBLIC.parameters.eccDetail.curveID " + internal::hex16(ecc->curve_id) +
                     " is not supported for verification (P-256, P-384, P-521 are)"};
    }
    if (ecc->x.empty() || ecc->y.empty()) {
      return Error{"TPMT_PUBLIC.unique.ecc is empty (a template, not a key)"};
    }
    return crypto::PublicKey::from_ec(c, ecc->x, ecc->y);
  }
  return Error{"TPMT_PUBLIC: no key material"};
}

const Scheme* PublicArea::signing_scheme() const {
  const Scheme* s = rsa ? &rsa->scheme : ecc ? &ecc->scheme : nullptr;
  if (s == nullptr || s->scheme == alg::kNull) return nullptr;
  return s;
}

namespace {

Result<PublicArea> read_tpmt_public(ByteReader& r) {
  PublicArea p;
  const size_t type_at = r.offset();
  TL_TPM_TRY(type, r.u16_be("TPMT_PUBLIC.type"));
  if (type != alg::kRsa && type != alg::kEcc) {
    return r.error_at(type_at, "TPMT_PUBLIC.type",
                      "unsupported key type " + alg_name(type) + " (RSA and ECC are supported)");
  }
  p.type = type;
  TL_TPM_TRY(name_alg, read_hash(r, "TPMT_PUBLIC.nameAlg"));
  p.name_alg = name_alg;
  const size_t attr_at = r.offset();
  TL_TPM_TRY(attrs, r.u32_be("TPMT_PUBLIC.objectAttributes"));
  if ((attrs & ~kDefinedAttributeBits) != 0) {
    return r.error_at(attr_at, "TPMT_PUBLIC.objectAttributes",
                      "reserved bits set in " + internal::hex32(attrs));
  }
  p.attributes = ObjectAttributes::decode(attrs);
  TL_TPM_TRY(policy, read_tpm2b(r, kMaxDigestSize, "TPMT_PUBLIC.authPolicy"));
  p.auth_policy.assign(policy.begin(), policy.end());
  if (type == alg::kRsa) {
    TL_TPM_TRY(rsa, read_rsa(r));
    p.rsa = std::move(rsa);
  } else {
    TL_TPM_TRY(ecc, read_ecc(r));
    p.ecc = std::move(ecc);
  }
  return p;
}

}  // namespace

Result<PublicArea> parse_tpmt_public(ByteView data, size_t base_offset) {
  ByteReader r(data, base_offset);
  TL_TPM_TRY(p, read_tpmt_public(r));
  TL_TPM_CHECK(internal::expect_end(r, "TPMT_PUBLIC"));
  // Keep the exact bytes: the Name is a hash over them, not over a re-encoding.
  p.marshaled.assign(data.begin(), data.end());
  return p;
}

Result<PublicArea> parse_tpm2b_public(ByteView data) {
  ByteReader r(data);
  TL_TPM_TRY(size, r.u16_be("TPM2B_PUBLIC.size"));
  if (size != r.remaining()) {
    return r.error_at(0, "TPM2B_PUBLIC.size",
                      std::to_string(size) + " but " + std::to_string(r.remaining()) +
                          " bytes follow");
  }
  return parse_tpmt_public(data.subspan(2), 2);
}

Result<PublicArea> parse_public_area(ByteView data) {
  if (data.size() >= 2 && ((size_t{data[0]} << 8) | data[1]) == data.size() - 2) {
    return parse_tpm2b_public(data);
  }
  return parse_tpmt_public(data);
}

}  // namespace tl::tpm
