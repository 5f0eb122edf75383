#include "log_builder.h"

#include <stdexcept>

#include "eventlog/event.h"

namespace tl::test {

void put_u8(Bytes& out, uint8_t v) { out.push_back(v); }
void put_u16(Bytes& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v));
  out.push_back(static_cast<uint8_t>(v >> 8));
}
void put_u32(Bytes& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put_bytes(Bytes& out, ByteView v) { out.insert(out.end(), v.begin(), v.end()); }
void patch_u32(Bytes& out, size_t offset, uint32_t v) {
  for (size_t i = 0; i < 4; ++i) out.at(offset + i) = static_cast<uint8_t>(v >> (8 * i));
}

SpecIdOptions LogBuilder::default_header(const std::vector<crypto::HashAlg>& banks) {
  SpecIdOptions h;
  for (crypto::HashAlg b : banks)
    h.algorithms.push_back({crypto::tpm_alg_id(b), static_cast<uint16_t>(crypto::digest_size(b))});
  return h;
}

Bytes LogBuilder::spec_id_event(const SpecIdOptions& h) {
  Bytes body;
  put_bytes(body, as_bytes(h.signature));
  put_u32(body, 0);  // platformClass: client
  put_u8(body, 0);   // specVersionMinor
  put_u8(body, 2);   // specVersionMajor
  put_u8(body, 0);   // specErrata
  put_u8(body, 2);   // uintnSize: UINT64
  put_u32(body, h.number_of_algorithms.value_or(static_cast<uint32_t>(h.algorithms.size())));
  for (const SpecIdAlg& a : h.algorithms) {
    put_u16(body, a.alg_id);
    put_u16(body, a.digest_size);
  }
  put_u8(body, static_cast<uint8_t>(h.vendor_info.size()));
  put_bytes(body, h.vendor_info);

  Bytes out;
  put_u32(out, h.pcr);
  put_u32(out, eventlog::EV_NO_ACTION);
  put_bytes(out, h.sha1_field);
  put_u32(out, h.event_size.value_or(static_cast<uint32_t>(body.size())));
  put_bytes(out, body);
  return out;
}

LogBuilder LogBuilder::crypto_agile(std::vector<crypto::HashAlg> banks) {
  LogBuilder b = crypto_agile(default_header(banks));
  b.banks_ = std::move(banks);
  return b;
}

LogBuilder LogBuilder::crypto_agile(const SpecIdOptions& header) {
  LogBuilder b;
  b.agile_ = true;
  for (const SpecIdAlg& a : header.algorithms)
    if (auto alg = crypto::hash_from_tpm_alg_id(a.alg_id)) b.banks_.push_back(*alg);
  b.out_ = spec_id_event(header);
  return b;
}

LogBuilder LogBuilder::legacy() {
  LogBuilder b;
  b.banks_ = {crypto::HashAlg::sha1};
  return b;
}

LogBuilder& LogBuilder::event2(const Event2Options& e) {
  put_u32(out_, e.pcr);
  put_u32(out_, e.type);
  put_u32(out_, e.digest_count.value_or(static_cast<uint32_t>(e.digests.size())));
  for (const RawDigest& d : e.digests) {
    put_u16(out_, d.alg_id);
    put_bytes(out_, d.value);
  }
  put_u32(out_, e.event_size.value_or(static_cast<uint32_t>(e.data.size())));
  put_bytes(out_, e.data);
  return *this;
}

LogBuilder& LogBuilder::legacy_event(uint32_t pcr, uint32_t type, ByteView sha1, ByteView data,
                                     std::optional<uint32_t> event_size) {
  if (sha1.size() != 20) throw std::invalid_argument("legacy_event: sha1 must be 20 bytes");
  put_u32(out_, pcr);
  put_u32(out_, type);
  put_bytes(out_, sha1);
  put_u32(out_, event_size.value_or(static_cast<uint32_t>(data.size())));
  put_bytes(out_, data);
  return *this;
}

LogBuilder& LogBuilder::event(uint32_t pcr, uint32_t type, ByteView data) {
  if (!agile_) {
    auto d = crypto::digest(crypto::HashAlg::sha1, data);
    if (!d) throw std::runtime_error(d.error().message);
    return legacy_event(pcr, type, *d, data);
  }
  Event2Options e;
  e.pcr = pcr;
  e.type = type;
  e.data.assign(data.begin(), data.end());
  for (crypto::HashAlg b : banks_) {
    auto d = crypto::digest(b, data);
    if (!d) throw std::runtime_error(d.error().message);
    e.digests.push_back({crypto::tpm_alg_id(b), std::move(*d)});
  }
  return event2(e);
}

LogBuilder& LogBuilder::event_with_fill(uint32_t pcr, uint32_t type, uint8_t fill, ByteView data) {
  if (!agile_) return legacy_event(pcr, type, Bytes(20, fill), data);
  Event2Options e;
  e.pcr = pcr;
  e.type = type;
  e.data.assign(data.begin(), data.end());
  for (crypto::HashAlg b : banks_) e.digests.push_back({crypto::tpm_alg_id(b), Bytes(crypto::digest_size(b), fill)});
  return event2(e);
}

LogBuilder& LogBuilder::startup_locality(uint8_t locality) {
  const ByteView sig = as_bytes(std::string_view("StartupLocality\0", 16));
  Bytes data(sig.begin(), sig.end());
  data.push_back(locality);
  return event_with_fill(0, eventlog::EV_NO_ACTION, 0, data);
}

LogBuilder& LogBuilder::raw(ByteView bytes) {
  put_bytes(out_, bytes);
  return *this;
}

}  // namespace tl::test
