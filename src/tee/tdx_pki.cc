// OpenSSL is used directly here (tl_tee links it privately) for what
// src/crypto does not offer: X.509 validation with CRLs against a caller
// chosen root without the TPM EK profile, and a certificate's raw extension.
#include "tee/tdx_pki.h"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <memory>

#include "crypto/cert_chain.h"
#include "tee/tdx_anchors.h"

namespace tl::tee::detail {
namespace {

template <auto Fn>
struct Free {
  template <class T>
  void operator()(T* p) const { Fn(p); }
};
using X509P = std::unique_ptr<X509, Free<X509_free>>;
using CrlP = std::unique_ptr<X509_CRL, Free<X509_CRL_free>>;
using StoreP = std::unique_ptr<X509_STORE, Free<X509_STORE_free>>;
using StoreCtxP = std::unique_ptr<X509_STORE_CTX, Free<X509_STORE_CTX_free>>;
using ObjP = std::unique_ptr<ASN1_OBJECT, Free<ASN1_OBJECT_free>>;
void free_x509_stack(STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); }
using StackP = std::unique_ptr<STACK_OF(X509), Free<free_x509_stack>>;

std::string ossl_error() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

X509P parse_der(ByteView der) {
  const unsigned char* p = der.data();
  X509P x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (x && p != der.data() + der.size()) return nullptr;
  return x;
}

Result<CrlP> parse_crl(ByteView data, const std::string& what) {
  const unsigned char* p = data.data();
  CrlP crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(data.size())));
  if (!crl) {
    ERR_clear_error();
    std::unique_ptr<BIO, Free<BIO_free>> bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
    if (bio) crl.reset(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
  }
  if (!crl) return Error{what + " is neither a DER nor a PEM CRL: " + ossl_error()};
  return crl;
}

// Minimal DER reader for the SGX extension (definite lengths only).
struct Tlv {
  uint8_t tag = 0;
  ByteView value;
};

Result<Tlv> next_tlv(ByteView& in) {
  if (in.size() < 2) return Error{"truncated DER element"};
  Tlv t;
  t.tag = in[0];
  size_t len = in[1];
  size_t hdr = 2;
  if (len & 0x80) {
    const size_t n = len & 0x7f;
    if (n == 0 || n > 4 || in.size() < 2 + n) return Error{"bad DER length"};
    len = 0;
    for (size_t i = 0; i < n; ++i) len = (len << 8) | in[2 + i];
    hdr += n;
  }
  if (in.size() - hdr < len) return Error{"DER element longer than its container"};
  t.value = in.subspan(hdr, len);
  in = in.subspan(hdr + len);
  return t;
}

// 1.2.840.113741.1.13.1 in DER content octets.
constexpr uint8_t kSgxExtOid[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};

// The arcs after the SGX extension OID, e.g. {2, 17} for ...13.1.2.17.
std::vector<uint8_t> sub_arcs(ByteView oid) {
  if (oid.size() < sizeof(kSgxExtOid) || !std::equal(kSgxExtOid, kSgxExtOid + sizeof(kSgxExtOid), oid.begin()))
    return {};
  return {oid.begin() + sizeof(kSgxExtOid), oid.end()};
}

Result<uint32_t> der_uint(const Tlv& t, const std::string& what) {
  if ((t.tag != 0x02 && t.tag != 0x0a) || t.value.empty() || t.value.size() > 5)
    return Error{what + ": not a small INTEGER"};
  if (t.value[0] & 0x80) return Error{what + ": negative"};
  uint64_t v = 0;
  for (uint8_t b : t.value) v = (v << 8) | b;
  if (v > 0xffffffffu) return Error{what + ": too large"};
  return static_cast<uint32_t>(v);
}

}  // namespace

Result<std::vector<Bytes>> split_pem_chain(ByteView pem, size_t min_count, const std::string& what) {
  while (!pem.empty() && pem.back() == 0) pem = pem.first(pem.size() - 1);
  auto certs = crypto::parse_certificates(pem);
  if (!certs) return with_context(what, certs.take_error());
  if (certs->size() < min_count)
    return Error{what + " holds " + std::to_string(certs->size()) + " certificate(s), expected at least " +
                 std::to_string(min_count)};
  return certs;
}

Result<crypto::PublicKey> verify_intel_chain(const std::vector<Bytes>& certs, int64_t at,
                                             ByteView leaf_issuer_crl, ByteView root_ca_crl) {
  if (certs.empty()) return Error{"empty certificate chain"};
  auto leaf = parse_der(certs[0]);
  if (!leaf) return Error{"leaf certificate does not parse: " + ossl_error()};
  auto root = parse_der(intel_sgx_root_ca());
  StoreP store(X509_STORE_new());
  StackP untrusted(sk_X509_new_null());
  if (!root || !store || !untrusted) return Error{"OpenSSL setup failed: " + ossl_error()};
  if (X509_STORE_add_cert(store.get(), root.get()) != 1) return Error{"shipped root: " + ossl_error()};
  for (size_t i = 1; i < certs.size(); ++i) {
    auto c = parse_der(certs[i]);
    if (!c) return Error{"certificate " + std::to_string(i) + " does not parse: " + ossl_error()};
    if (sk_X509_push(untrusted.get(), c.get()) <= 0) return Error{"out of memory"};
    c.release();
  }
  unsigned long flags = X509_V_FLAG_X509_STRICT;
  if (!leaf_issuer_crl.empty()) {
    auto crl = parse_crl(leaf_issuer_crl, "PCK CRL");
    if (!crl) return crl.take_error();
    if (X509_STORE_add_crl(store.get(), crl->get()) != 1) return Error{"PCK CRL: " + ossl_error()};
    flags |= X509_V_FLAG_CRL_CHECK;
    if (!root_ca_crl.empty()) {
      auto rcrl = parse_crl(root_ca_crl, "root CA CRL");
      if (!rcrl) return rcrl.take_error();
      if (X509_STORE_add_crl(store.get(), rcrl->get()) != 1) return Error{"root CA CRL: " + ossl_error()};
      flags |= X509_V_FLAG_CRL_CHECK_ALL;
    }
  }
  StoreCtxP ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), untrusted.get()) != 1)
    return Error{"OpenSSL setup failed: " + ossl_error()};
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_flags(param, flags);
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(at));
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
    ERR_clear_error();
    return Error{"certificate at depth " + std::to_string(depth) + ": " + X509_verify_cert_error_string(err)};
  }
  return crypto::certificate_public_key(certs[0]);
}

Result<TdxPckTcb> pck_tcb_from_certificate(ByteView der) {
  auto cert = parse_der(der);
  if (!cert) return Error{"PCK certificate does not parse: " + ossl_error()};
  ObjP oid(OBJ_txt2obj("1.2.840.113741.1.13.1", 1));
  if (!oid) return Error{"OpenSSL: " + ossl_error()};
  const int idx = X509_get_ext_by_OBJ(cert.get(), oid.get(), -1);
  if (idx < 0) return Error{"PCK certificate has no SGX extensions (1.2.840.113741.1.13.1)"};
  const ASN1_OCTET_STRING* os = X509_EXTENSION_get_data(X509_get_ext(cert.get(), idx));
  ByteView ext(ASN1_STRING_get0_data(os), static_cast<size_t>(ASN1_STRING_length(os)));

  auto outer = next_tlv(ext);
  if (!outer || outer->tag != 0x30) return Error{"SGX extensions: not a SEQUENCE"};
  TdxPckTcb tcb;
  bool have_tcb = false, have_fmspc = false, have_pceid = false, have_pcesvn = false;
  bool have_comp[16] = {};
  ByteView items = outer->value;
  while (!items.empty()) {
    auto item = next_tlv(items);
    if (!item || item->tag != 0x30) return Error{"SGX extensions: entry is not a SEQUENCE"};
    ByteView in = item->value;
    auto id = next_tlv(in);
    if (!id || id->tag != 0x06) return Error{"SGX extensions: entry without OID"};
    auto val = next_tlv(in);
    if (!val) return Error{"SGX extensions: entry without value"};
    const auto arcs = sub_arcs(id->value);
    if (arcs.size() != 1) continue;  // not ours or nested: ignore
    if (arcs[0] == 2) {              // TCB
      if (val->tag != 0x30) return Error{"SGX extensions: TCB is not a SEQUENCE"};
      have_tcb = true;
      ByteView comps = val->value;
      while (!comps.empty()) {
        auto c = next_tlv(comps);
        if (!c || c->tag != 0x30) return Error{"SGX extensions: TCB entry is not a SEQUENCE"};
        ByteView cin = c->value;
        auto cid = next_tlv(cin);
        auto cval = cid ? next_tlv(cin) : Result<Tlv>(Error{"missing"});
        if (!cid || !cval || cid->tag != 0x06) return Error{"SGX extensions: malformed TCB entry"};
        const auto carcs = sub_arcs(cid->value);
        if (carcs.size() != 2 || carcs[0] != 2) continue;
        const uint8_t n = carcs[1];
        if (n >= 1 && n <= 16) {
          auto v = der_uint(*cval, "SGX TCB COMP" + std::to_string(n) + " SVN");
          if (!v) return v.take_error();
          if (*v > 255) return Error{"SGX TCB COMP" + std::to_string(n) + " SVN exceeds 255"};
          tcb.sgx_components[n - 1] = static_cast<uint8_t>(*v);
          have_comp[n - 1] = true;
        } else if (n == 17) {
          auto v = der_uint(*cval, "PCESVN");
          if (!v) return v.take_error();
          if (*v > 0xffff) return Error{"PCESVN exceeds 65535"};
          tcb.pce_svn = static_cast<uint16_t>(*v);
          have_pcesvn = true;
        } else if (n == 18) {
          if (cval->tag != 0x04 || cval->value.size() != 16) return Error{"SGX extensions: CPUSVN is not 16 bytes"};
          std::copy(cval->value.begin(), cval->value.end(), tcb.cpu_svn.begin());
        }
      }
    } else if (arcs[0] == 3) {  // PCE-ID
      if (val->tag != 0x04 || val->value.size() != 2) return Error{"SGX extensions: PCE-ID is not 2 bytes"};
      tcb.pce_id.assign(val->value.begin(), val->value.end());
      have_pceid = true;
    } else if (arcs[0] == 4) {  // FMSPC
      if (val->tag != 0x04 || val->value.size() != 6) return Error{"SGX extensions: FMSPC is not 6 bytes"};
      tcb.fmspc.assign(val->value.begin(), val->value.end());
      have_fmspc = true;
    }
  }
  if (!have_tcb || !have_pcesvn) return Error{"SGX extensions: no TCB / PCESVN"};
  for (int i = 0; i < 16; ++i)
    if (!have_comp[i]) return Error{"SGX extensions: TCB COMP" + std::to_string(i + 1) + " missing"};
  if (!have_fmspc || !have_pceid) return Error{"SGX extensions: no FMSPC / PCE-ID"};
  return tcb;
}

Status check_tcb_signing_leaf(ByteView der) {
  auto cert = parse_der(der);
  if (!cert) return Error{"signing certificate does not parse: " + ossl_error()};
  const X509_NAME* subject = X509_get_subject_name(cert.get());
  // Exactly one CN, equal to Intel's: a second CN could make the name ambiguous.
  const int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (idx < 0) return Error{"signing certificate has no subject CN, expected \"" + std::string(kTcbSigningCn) + "\""};
  if (X509_NAME_get_index_by_NID(subject, NID_commonName, idx) >= 0)
    return Error{"signing certificate has more than one subject CN"};
  const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
  const std::string_view got(reinterpret_cast<const char*>(ASN1_STRING_get0_data(cn)),
                             static_cast<size_t>(ASN1_STRING_length(cn)));
  if (got != kTcbSigningCn)
    return Error{"signing certificate subject CN is \"" + std::string(got) + "\", expected \"" +
                 std::string(kTcbSigningCn) + "\" (Intel's TCB signing certificate)"};
  return {};
}

}  // namespace tl::tee::detail
