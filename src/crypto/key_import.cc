// Bring-your-own-key: private keys as PEM, PKCS#8 DER or JWK, each checked
// and turned into the canonical form KeyMaterial holds.
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <string>
#include <type_traits>
#include <vector>

#include "crypto/b64url.h"
#include "crypto/key_canonical.h"
#include "crypto/key_material.h"

namespace tl::crypto {

namespace {

constexpr size_t kMaxPemSize = 64 * 1024;   // an RSA-4096 PKCS#8 PEM is about 3.3 KiB
constexpr size_t kMaxJwkMember = 1024;      // characters; 4096 bits take 683
constexpr size_t kOctBytes = 32;

// One PEM block as PEM_read_bio gives it; the decoded body is cleansed.
struct PemBlock {
  std::string label;
  bool encrypted = false;  // RFC 1421 "Proc-Type: 4,ENCRYPTED" header
  SecretBytes der;
};

Result<std::vector<PemBlock>> read_pem_blocks(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Error{"out of memory"};
  std::vector<PemBlock> blocks;
  for (;;) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    ERR_clear_error();
    if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
      const unsigned long err = ERR_peek_last_error();
      ERR_clear_error();
      // "no start line" once the blocks are used up is the normal end.
      if (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE) break;
      return Error{"PEM block " + std::to_string(blocks.size() + 1) +
                   " is malformed (bad base64, or no matching END line)"};
    }
    PemBlock b;
    b.label = name;
    b.encrypted = std::string_view(header).find("ENCRYPTED") != std::string_view::npos;
    b.der = SecretBytes(ByteView(data, static_cast<size_t>(len)));
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_clear_free(data, static_cast<size_t>(len));
    blocks.push_back(std::move(b));
  }
  return blocks;
}

std::string labels_of(const std::vector<PemBlock>& blocks) {
  std::string out;
  for (const auto& b : blocks) out += (out.empty() ? "'" : ", '") + b.label + "'";
  return out;
}

// ---- JWK ----

Result<std::string_view> member_text(const nlohmann::json& jwk, const char* name) {
  auto it = jwk.find(name);
  if (it == jwk.end()) return Error{std::string("member '") + name + "' is missing"};
  if (!it->is_string()) return Error{std::string("member '") + name + "' must be a string"};
  const auto& s = it->get_ref<const std::string&>();
  if (s.empty()) return Error{std::string("member '") + name + "' is empty"};
  if (s.size() > kMaxJwkMember) {
    return Error{std::string("member '") + name + "' is " + std::to_string(s.size()) + " characters, too long"};
  }
  return std::string_view(s);
}

Result<SecretBytes> member_bytes(const nlohmann::json& jwk, const char* name) {
  auto text = member_text(jwk, name);
  if (!text) return text.take_error();
  auto bytes = b64url_decode(*text);
  if (!bytes) return with_context(std::string("member '") + name + "'", bytes.take_error());
  return bytes;
}

// Base64urlUInt (RFC 7518 §2); `minimal` for the public members, which must
// not carry leading zero octets.
template <class Ptr>
Result<Ptr> member_bn(const nlohmann::json& jwk, const char* name, bool minimal) {
  auto bytes = member_bytes(jwk, name);
  if (!bytes) return bytes.take_error();
  if (minimal && bytes->size() > 1 && bytes->data()[0] == 0) {
    return Error{std::string("member '") + name + "' has a leading zero octet (RFC 7518 §2: minimum length)"};
  }
  Ptr bn(std::is_same_v<Ptr, SecretBnPtr> ? BN_secure_new() : BN_new());
  if (!bn || BN_bin2bn(bytes->data(), static_cast<int>(bytes->size()), bn.get()) == nullptr) {
    return Error{"out of memory"};
  }
  return bn;
}

Result<CanonicalKey> rsa_jwk(const nlohmann::json& jwk) {
  if (jwk.contains("oth")) return Error{"member 'oth': multi-prime RSA keys are not supported"};
  if (!jwk.contains("d")) {
    return Error{"member 'd' is missing: this is a public JWK; importing needs the private key"};
  }
  RsaMembers m;
  auto n = member_bn<BnPtr>(jwk, "n", true);
  if (!n) return n.take_error();
  m.n = std::move(*n);
  auto e = member_bn<BnPtr>(jwk, "e", true);
  if (!e) return e.take_error();
  m.e = std::move(*e);
  struct Private {
    const char* name;
    SecretBnPtr* slot;
  };
  for (const Private& p : {Private{"d", &m.d}, Private{"p", &m.p}, Private{"q", &m.q}, Private{"dp", &m.dp},
                           Private{"dq", &m.dq}, Private{"qi", &m.qi}}) {
    auto bn = member_bn<SecretBnPtr>(jwk, p.name, false);
    if (!bn) {
      if (!jwk.contains(p.name)) {
        return Error{bn.error().message + " (an RSA private JWK needs n, e, d, p, q, dp, dq and qi)"};
      }
      return bn.take_error();
    }
    *p.slot = std::move(*bn);
  }
  return canonical_rsa(m);
}

Result<CanonicalKey> ec_jwk(const nlohmann::json& jwk) {
  auto crv = member_text(jwk, "crv");
  if (!crv) return crv.take_error();
  EcMembers m;
  if (*crv == "P-256") {
    m.curve = Curve::p256;
  } else if (*crv == "P-384") {
    m.curve = Curve::p384;
  } else {
    const bool printable = crv->size() <= 32 && crv->find_first_not_of(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") == std::string_view::npos;
    return Error{"member 'crv': " + (printable ? "'" + std::string(*crv) + "'" : std::string("the curve")) +
                 " is not supported (P-256 or P-384)"};
  }
  if (!jwk.contains("d")) {
    return Error{"member 'd' is missing: this is a public JWK; importing needs the private key"};
  }
  const size_t size = ec_field_size(m.curve);
  const std::string crv_s(*crv);
  auto sized = [&](const char* name) -> Result<SecretBytes> {
    auto b = member_bytes(jwk, name);
    if (!b) return b.take_error();
    if (b->size() != size) {
      return Error{std::string("member '") + name + "' is " + std::to_string(b->size()) + " bytes, " + crv_s +
                   " needs exactly " + std::to_string(size)};
    }
    return b;
  };
  auto x = sized("x");
  if (!x) return x.take_error();
  auto y = sized("y");
  if (!y) return y.take_error();
  auto d = sized("d");
  if (!d) return d.take_error();
  m.x.assign(x->view().begin(), x->view().end());
  m.y.assign(y->view().begin(), y->view().end());
  m.d = std::move(*d);
  return canonical_ec(m);
}

}  // namespace

Result<KeyMaterial> KeyMaterial::import_pkcs8_der(ByteView der) {
  auto pkey = parse_pkcs8(der);
  if (!pkey) return with_context("PKCS#8 DER", pkey.take_error());
  auto key = canonical_from_pkey(pkey->get());
  if (!key) return with_context("PKCS#8 DER", key.take_error());
  return KeyMaterial(key->spec, std::move(key->pkcs8));
}

Result<KeyMaterial> KeyMaterial::import_pem(std::string_view pem) {
  if (pem.empty()) return Error{"PEM is empty"};
  if (pem.size() > kMaxPemSize) {
    return Error{"PEM of " + std::to_string(pem.size()) + " bytes is too large (at most " +
                 std::to_string(kMaxPemSize) + ")"};
  }
  auto read = read_pem_blocks(pem);
  if (!read) return with_context("PEM", read.take_error());
  std::vector<PemBlock> blocks = std::move(*read);
  // `openssl ecparam -genkey` writes the curve's parameters before the key; the
  // key carries its curve itself, so that companion block is dropped.
  if (blocks.size() == 2 && blocks[0].label == "EC PARAMETERS" && blocks[1].label == "EC PRIVATE KEY") {
    blocks.erase(blocks.begin());
  }
  if (blocks.empty()) {
    return Error{"PEM: no PEM block found (expected '-----BEGIN PRIVATE KEY-----', "
                 "'-----BEGIN RSA PRIVATE KEY-----' or '-----BEGIN EC PRIVATE KEY-----')"};
  }
  if (blocks.size() > 1) {
    return Error{"PEM holds " + std::to_string(blocks.size()) + " blocks (" + labels_of(blocks) +
                 "): give exactly one private key"};
  }
  const PemBlock& b = blocks[0];
  const std::string where = "PEM '" + b.label + "'";
  if (b.encrypted || b.label == "ENCRYPTED PRIVATE KEY") {
    return Error{where + ": the key is encrypted; decrypt it first (openssl pkey -in key.pem -out plain.pem)"};
  }
  if (b.label == "PUBLIC KEY" || b.label == "RSA PUBLIC KEY") {
    return Error{where + ": a public key; importing needs the private key"};
  }
  if (b.label == "CERTIFICATE" || b.label == "TRUSTED CERTIFICATE" || b.label == "X509 CERTIFICATE") {
    return Error{where + ": a certificate; importing needs the private key"};
  }
  Result<PkeyPtr> pkey = Error{""};
  if (b.label == "PRIVATE KEY") {
    pkey = parse_pkcs8(b.der.view());
  } else if (b.label == "RSA PRIVATE KEY") {
    pkey = decode_traditional(b.der.view(), "RSA");
  } else if (b.label == "EC PRIVATE KEY") {
    pkey = decode_traditional(b.der.view(), "EC");
  } else {
    return Error{where + " is not a supported block (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)"};
  }
  if (!pkey) return with_context(where, pkey.take_error());
  auto key = canonical_from_pkey(pkey->get());
  if (!key) return with_context(where, key.take_error());
  return KeyMaterial(key->spec, std::move(key->pkcs8));
}

Result<KeyMaterial> KeyMaterial::import_jwk(const nlohmann::json& jwk) {
  if (!jwk.is_object()) return Error{"JWK must be a JSON object"};
  auto kty = member_text(jwk, "kty");
  if (!kty) return with_context("JWK", kty.take_error());
  if (*kty == "oct") {
    auto k = member_bytes(jwk, "k");
    if (!k) return with_context("JWK", k.take_error());
    if (k->size() != kOctBytes) {
      return Error{"JWK member 'k' is " + std::to_string(k->size()) + " bytes; an oct key must be 32 (256 bits)"};
    }
    return KeyMaterial(KeySpec{KeyKind::oct, 256, Curve::p256}, std::move(*k));
  }
  Result<CanonicalKey> key = Error{""};
  if (*kty == "RSA") {
    key = rsa_jwk(jwk);
  } else if (*kty == "EC") {
    key = ec_jwk(jwk);
  } else {
    const bool hsm = kty->size() > 4 && kty->substr(kty->size() - 4) == "-HSM";
    return Error{"JWK member 'kty': " +
                 std::string(hsm ? "HSM key types are not supported (material here is sealed by the vault's KEK)"
                                 : "only RSA, EC and oct are supported")};
  }
  if (!key) return with_context("JWK", key.take_error());
  return KeyMaterial(key->spec, std::move(key->pkcs8));
}

}  // namespace tl::crypto
