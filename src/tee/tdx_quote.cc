// TDX quote v4/v5 wire format (Intel TDX DCAP Quoting Library API, appendix
// "Quote Format"); all integers little-endian. Layout and sizes: docs/tee-tdx.md.
#include "tee/tdx_quote.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "common/byte_reader.h"

namespace tl::tee {
namespace {

constexpr const char* kReason = "tdx-quote-malformed";
constexpr size_t kHeaderSize = 48;
constexpr size_t kDescriptorSize = 6;
constexpr size_t kTd10BodySize = 584;
constexpr size_t kTd15BodySize = 648;
constexpr size_t kQeReportSize = 384;
// Smallest ECDSA signature data: signature, attestation key, certification data
// header (type 6) holding the QE report, its signature, an empty QE auth data
// and an empty inner certification data.
constexpr size_t kMinSignatureData = 64 + 64 + 6 + kQeReportSize + 64 + 2 + 6;
constexpr size_t kMinV4Size = kHeaderSize + kTd10BodySize + 4 + kMinSignatureData;
constexpr size_t kMinV5Size = kHeaderSize + kDescriptorSize + kTd10BodySize + 4 + kMinSignatureData;

Error malformed(Error e) {
  e.reason = kReason;
  return e;
}
Error malformed(std::string message) { return Error{std::move(message), kReason}; }

template <size_t N>
Status read_array(ByteReader& r, std::array<uint8_t, N>& out, std::string_view field) {
  auto b = r.bytes(N, field);
  if (!b) return malformed(b.take_error());
  std::copy(b.value().begin(), b.value().end(), out.begin());
  return {};
}

#define TL_TRY_READ(expr)             \
  do {                                \
    if (auto s_ = (expr); !s_) return malformed(s_.take_error()); \
  } while (0)

#define TL_TRY_ASSIGN(var, expr)                              \
  do {                                                        \
    auto r_ = (expr);                                         \
    if (!r_) return malformed(r_.take_error());               \
    var = r_.value();                                         \
  } while (0)

Status read_body(ByteReader& r, TdBodyType type, TdQuoteBody& b) {
  TL_TRY_READ(read_array(r, b.tee_tcb_svn, "TD body TEE_TCB_SVN"));
  TL_TRY_READ(read_array(r, b.mr_seam, "TD body MRSEAM"));
  TL_TRY_READ(read_array(r, b.mr_signer_seam, "TD body MRSIGNERSEAM"));
  TL_TRY_ASSIGN(b.seam_attributes, r.u64_le("TD body SEAMATTRIBUTES"));
  TL_TRY_ASSIGN(b.td_attributes, r.u64_le("TD body TDATTRIBUTES"));
  TL_TRY_ASSIGN(b.xfam, r.u64_le("TD body XFAM"));
  TL_TRY_READ(read_array(r, b.mr_td, "TD body MRTD"));
  TL_TRY_READ(read_array(r, b.mr_config_id, "TD body MRCONFIGID"));
  TL_TRY_READ(read_array(r, b.mr_owner, "TD body MROWNER"));
  TL_TRY_READ(read_array(r, b.mr_owner_config, "TD body MROWNERCONFIG"));
  static const char* const kRtmr[] = {"TD body RTMR0", "TD body RTMR1", "TD body RTMR2", "TD body RTMR3"};
  for (size_t i = 0; i < 4; ++i) TL_TRY_READ(read_array(r, b.rtmr[i], kRtmr[i]));
  TL_TRY_READ(read_array(r, b.report_data, "TD body REPORTDATA"));
  b.tee_tcb_svn2.reset();
  b.mr_service_td.reset();
  if (type == TdBodyType::td15) {
    std::array<uint8_t, 16> svn2{};
    Mr48 service{};
    TL_TRY_READ(read_array(r, svn2, "TD body TEE_TCB_SVN2"));
    TL_TRY_READ(read_array(r, service, "TD body MRSERVICETD"));
    b.tee_tcb_svn2 = svn2;
    b.mr_service_td = service;
  }
  return {};
}

Status read_qe_report(ByteView raw, SgxReportBody& q) {
  // SGX REPORTBODY: reserved fields are kept only in qe_report_raw.
  ByteReader r(raw);
  TL_TRY_READ(read_array(r, q.cpu_svn, "QE report CPUSVN"));
  TL_TRY_ASSIGN(q.misc_select, r.u32_le("QE report MISCSELECT"));
  TL_TRY_READ(r.skip(28, "QE report reserved1"));
  TL_TRY_READ(read_array(r, q.attributes, "QE report ATTRIBUTES"));
  TL_TRY_READ(read_array(r, q.mr_enclave, "QE report MRENCLAVE"));
  TL_TRY_READ(r.skip(32, "QE report reserved2"));
  TL_TRY_READ(read_array(r, q.mr_signer, "QE report MRSIGNER"));
  TL_TRY_READ(r.skip(96, "QE report reserved3"));
  TL_TRY_ASSIGN(q.isv_prod_id, r.u16_le("QE report ISVPRODID"));
  TL_TRY_ASSIGN(q.isv_svn, r.u16_le("QE report ISVSVN"));
  TL_TRY_READ(r.skip(60, "QE report reserved4"));
  TL_TRY_READ(read_array(r, q.report_data, "QE report REPORTDATA"));
  return {};
}

// Parses the ECDSA-256 quote signature data (its length already bounded to
// `r`); every byte of it must be accounted for, so serialization is exact.
Status read_signature_data(ByteReader& r, TdxQuote& q) {
  TL_TRY_READ(read_array(r, q.signature, "quote signature"));
  TL_TRY_READ(read_array(r, q.attestation_key, "attestation key"));
  const size_t cert_at = r.offset();
  uint16_t cert_type = 0;
  uint32_t cert_size = 0;
  TL_TRY_ASSIGN(cert_type, r.u16_le("certification data type"));
  TL_TRY_ASSIGN(cert_size, r.u32_le("certification data size"));
  if (cert_type != 6)
    return malformed(r.error_at(cert_at, "certification data type",
                                "unsupported certification data type " + std::to_string(cert_type) +
                                    " (a TDX quote carries type 6, QE report certification data)"));
  if (cert_size != r.remaining())
    return malformed(r.error_at(cert_at + 2, "certification data size",
                                "size " + std::to_string(cert_size) + " but the signature data leaves " +
                                    std::to_string(r.remaining()) + " bytes for it"));
  ByteView qe_raw;
  TL_TRY_ASSIGN(qe_raw, r.bytes(kQeReportSize, "QE report"));
  q.qe_report_raw.assign(qe_raw.begin(), qe_raw.end());
  if (auto s = read_qe_report(qe_raw, q.qe_report); !s) return s;
  TL_TRY_READ(read_array(r, q.qe_report_signature, "QE report signature"));
  uint16_t auth_size = 0;
  const size_t auth_at = r.offset();
  TL_TRY_ASSIGN(auth_size, r.u16_le("QE auth data size"));
  if (auth_size > r.remaining())
    return malformed(r.error_at(auth_at, "QE auth data size",
                                "size " + std::to_string(auth_size) + " exceeds the " +
                                    std::to_string(r.remaining()) + " bytes left in the certification data"));
  ByteView auth;
  TL_TRY_ASSIGN(auth, r.bytes(auth_size, "QE auth data"));
  q.qe_auth_data.assign(auth.begin(), auth.end());
  const size_t inner_at = r.offset();
  uint32_t inner_size = 0;
  TL_TRY_ASSIGN(q.pck_cert_data_type, r.u16_le("PCK certification data type"));
  TL_TRY_ASSIGN(inner_size, r.u32_le("PCK certification data size"));
  if (inner_size != r.remaining())
    return malformed(r.error_at(inner_at + 2, "PCK certification data size",
                                "size " + std::to_string(inner_size) + " but the certification data leaves " +
                                    std::to_string(r.remaining()) + " bytes for it"));
  ByteView pck;
  TL_TRY_ASSIGN(pck, r.bytes(inner_size, "PCK certification data"));
  q.pck_cert_data.assign(pck.begin(), pck.end());
  return {};
}

void put16(Bytes& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v));
  out.push_back(static_cast<uint8_t>(v >> 8));
}
void put32(Bytes& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put64(Bytes& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
template <size_t N>
void put(Bytes& out, const std::array<uint8_t, N>& a) {
  out.insert(out.end(), a.begin(), a.end());
}
void put(Bytes& out, ByteView b) { out.insert(out.end(), b.begin(), b.end()); }

size_t body_size(TdBodyType t) { return t == TdBodyType::td15 ? kTd15BodySize : kTd10BodySize; }

// Header, v5 descriptor and body: exactly the bytes the attestation key signs.
Bytes serialize_signed(const TdxQuote& q) {
  Bytes out;
  out.reserve(kHeaderSize + kDescriptorSize + kTd15BodySize);
  const auto& h = q.header;
  put16(out, h.version);
  put16(out, h.attestation_key_type);
  put32(out, h.tee_type);
  put16(out, h.qe_svn);
  put16(out, h.pce_svn);
  put(out, h.qe_vendor_id);
  put(out, h.user_data);
  if (h.version == 5) {
    put16(out, static_cast<uint16_t>(q.body_type));
    put32(out, static_cast<uint32_t>(body_size(q.body_type)));
  }
  const auto& b = q.body;
  put(out, b.tee_tcb_svn);
  put(out, b.mr_seam);
  put(out, b.mr_signer_seam);
  put64(out, b.seam_attributes);
  put64(out, b.td_attributes);
  put64(out, b.xfam);
  put(out, b.mr_td);
  put(out, b.mr_config_id);
  put(out, b.mr_owner);
  put(out, b.mr_owner_config);
  for (const auto& r : b.rtmr) put(out, r);
  put(out, b.report_data);
  if (q.body_type == TdBodyType::td15) {
    put(out, b.tee_tcb_svn2.value_or(std::array<uint8_t, 16>{}));
    put(out, b.mr_service_td.value_or(Mr48{}));
  }
  return out;
}

}  // namespace

Result<TdxQuote> parse_tdx_quote(ByteView data) {
  ByteReader r(data);
  TdxQuote q;
  auto& h = q.header;
  // Version first, so a short input is reported against its own minimum.
  if (data.size() >= 2) {
    const uint16_t v = static_cast<uint16_t>(data[0] | (data[1] << 8));
    if (v != 4 && v != 5)
      return malformed("quote header version at offset 0x0: unsupported TDX quote version " + std::to_string(v) +
                       " (4 and 5 are supported)");
    const size_t min = v == 5 ? kMinV5Size : kMinV4Size;
    if (data.size() < min)
      return malformed("raw quote size is " + std::to_string(data.size()) + " bytes, a v" + std::to_string(v) +
                       " TDX quote is at least " + std::to_string(min) + " bytes");
  }
  TL_TRY_ASSIGN(h.version, r.u16_le("quote header version"));
  TL_TRY_ASSIGN(h.attestation_key_type, r.u16_le("quote header attestation key type"));
  if (h.attestation_key_type != 2)
    return malformed(r.error_at(2, "quote header attestation key type",
                                "unsupported attestation key type " + std::to_string(h.attestation_key_type) +
                                    " (2 = ECDSA-256-with-P-256)"));
  TL_TRY_ASSIGN(h.tee_type, r.u32_le("quote header TEE type"));
  if (h.tee_type != 0x81)
    return malformed(r.error_at(4, "quote header TEE type",
                                "TEE type " + hex_offset(h.tee_type) + " is not TDX (0x81)"));
  TL_TRY_ASSIGN(h.qe_svn, r.u16_le("quote header QE SVN"));
  TL_TRY_ASSIGN(h.pce_svn, r.u16_le("quote header PCE SVN"));
  TL_TRY_READ(read_array(r, h.qe_vendor_id, "quote header QE vendor ID"));
  TL_TRY_READ(read_array(r, h.user_data, "quote header user data"));

  q.body_type = TdBodyType::td10;
  if (h.version == 5) {
    uint16_t type = 0;
    uint32_t size = 0;
    TL_TRY_ASSIGN(type, r.u16_le("TD quote body type"));
    TL_TRY_ASSIGN(size, r.u32_le("TD quote body size"));
    if (type != 2 && type != 3)
      return malformed(r.error_at(kHeaderSize, "TD quote body descriptor",
                                  "unsupported TD quote body type " + std::to_string(type) +
                                      " (2 = TDX 1.0, 3 = TDX 1.5)"));
    q.body_type = static_cast<TdBodyType>(type);
    const size_t want = body_size(q.body_type);
    if (size != want)
      return malformed(r.error_at(kHeaderSize + 2, "TD quote body size",
                                  "TD quote body size is " + std::to_string(size) + ", a v5 " +
                                      (type == 3 ? "TDX 1.5" : "TDX 1.0") + " quote body is " +
                                      std::to_string(want) + " bytes"));
  }
  if (auto s = read_body(r, q.body_type, q.body); !s) return s.take_error();
  const size_t signed_end = r.position();
  q.signed_data.assign(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(signed_end));

  const size_t len_at = r.offset();
  uint32_t sig_len = 0;
  TL_TRY_ASSIGN(sig_len, r.u32_le("quote signature data length"));
  if (sig_len > r.remaining())
    return malformed(r.error_at(len_at, "quote signature data length",
                                "length " + std::to_string(sig_len) + " exceeds the " +
                                    std::to_string(r.remaining()) + " bytes left in the quote"));
  auto sig = r.sub(sig_len, "quote signature data");
  if (!sig) return malformed(sig.take_error());
  if (auto s = read_signature_data(sig.value(), q); !s) return s.take_error();
  q.size = r.position();
  q.trailing_bytes = r.remaining();
  return q;
}

Bytes serialize_tdx_quote(const TdxQuote& q) {
  Bytes out = serialize_signed(q);
  const size_t cert_size = kQeReportSize + 64 + 2 + q.qe_auth_data.size() + 6 + q.pck_cert_data.size();
  put32(out, static_cast<uint32_t>(64 + 64 + 6 + cert_size));
  put(out, q.signature);
  put(out, q.attestation_key);
  put16(out, 6);
  put32(out, static_cast<uint32_t>(cert_size));
  Bytes qe = q.qe_report_raw;
  qe.resize(kQeReportSize, 0);
  put(out, qe);
  put(out, q.qe_report_signature);
  put16(out, static_cast<uint16_t>(q.qe_auth_data.size()));
  put(out, q.qe_auth_data);
  put16(out, q.pck_cert_data_type);
  put32(out, static_cast<uint32_t>(q.pck_cert_data.size()));
  put(out, q.pck_cert_data);
  return out;
}

nlohmann::json tdx_quote_json(const TdxQuote& q) {
  const auto& b = q.body;
  nlohmann::json rtmr = nlohmann::json::array();
  for (const auto& r : b.rtmr) rtmr.push_back(to_hex(r));
  nlohmann::json body = {
      {"tee_tcb_svn", to_hex(b.tee_tcb_svn)},
      {"mr_seam", to_hex(b.mr_seam)},
      {"mr_signer_seam", to_hex(b.mr_signer_seam)},
      {"seam_attributes", b.seam_attributes},
      {"td_attributes", b.td_attributes},
      {"debug", b.debug()},
      {"xfam", b.xfam},
      {"mr_td", to_hex(b.mr_td)},
      {"mr_config_id", to_hex(b.mr_config_id)},
      {"mr_owner", to_hex(b.mr_owner)},
      {"mr_owner_config", to_hex(b.mr_owner_config)},
      {"rtmr", rtmr},
      {"report_data", to_hex(b.report_data)},
  };
  if (b.tee_tcb_svn2) body["tee_tcb_svn2"] = to_hex(*b.tee_tcb_svn2);
  if (b.mr_service_td) body["mr_service_td"] = to_hex(*b.mr_service_td);
  const auto& h = q.header;
  const auto& qe = q.qe_report;
  return {
      {"version", h.version},
      {"attestation_key_type", h.attestation_key_type},
      {"tee_type", h.tee_type},
      {"qe_svn", h.qe_svn},
      {"pce_svn", h.pce_svn},
      {"qe_vendor_id", to_hex(h.qe_vendor_id)},
      {"user_data", to_hex(h.user_data)},
      {"body_type", static_cast<int>(q.body_type)},
      {"body", body},
      {"signature", to_hex(q.signature)},
      {"attestation_key", to_hex(q.attestation_key)},
      {"qe_report",
       {{"cpu_svn", to_hex(qe.cpu_svn)},
        {"misc_select", qe.misc_select},
        {"attributes", to_hex(qe.attributes)},
        {"mr_enclave", to_hex(qe.mr_enclave)},
        {"mr_signer", to_hex(qe.mr_signer)},
        {"isv_prod_id", qe.isv_prod_id},
        {"isv_svn", qe.isv_svn},
        {"report_data", to_hex(qe.report_data)}}},
      {"qe_report_signature", to_hex(q.qe_report_signature)},
      {"qe_auth_data", to_hex(q.qe_auth_data)},
      {"pck_cert_data_type", q.pck_cert_data_type},
      {"pck_cert_data_size", q.pck_cert_data.size()},
      {"size", q.size},
      {"trailing_bytes", q.trailing_bytes},
  };
}

}  // namespace tl::tee
