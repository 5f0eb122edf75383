#include "log_edit.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "crypto/digest.h"
#include "eventlog/parsed_log.h"
#include "eventlog/uefi_variable.h"

namespace tl::test {

namespace {

eventlog::ParsedLog parse(const Bytes& log) {
  auto p = eventlog::ParsedLog::parse(log);
  EXPECT_TRUE(p.ok()) << p.error().message;
  return std::move(*p);
}

size_t offset_in(const eventlog::ParsedLog& p, ByteView view) {
  return static_cast<size_t>(view.data() - p.bytes().data());
}

size_t event_end(const eventlog::ParsedLog& p, uint32_t index) {
  const eventlog::Event& e = p.events().at(index);
  return offset_in(p, e.data) + e.data.size();
}

void put_u32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put_u16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v));
  b.push_back(static_cast<uint8_t>(v >> 8));
}

}  // namespace

Bytes with_sha256_digest_flipped(const Bytes& log, uint32_t index) {
  eventlog::ParsedLog p = parse(log);
  const ByteView d = p.events().at(index).digest(crypto::HashAlg::sha256);
  EXPECT_EQ(d.size(), 32u);
  Bytes out = log;
  const size_t at = offset_in(p, d);
  for (size_t i = 0; i < d.size(); ++i) out[at + i] ^= 0xff;
  return out;
}

Bytes without_event(const Bytes& log, uint32_t index) {
  eventlog::ParsedLog p = parse(log);
  const size_t from = p.events().at(index).offset, to = event_end(p, index);
  Bytes out(log.begin(), log.begin() + static_cast<std::ptrdiff_t>(from));
  out.insert(out.end(), log.begin() + static_cast<std::ptrdiff_t>(to), log.end());
  return out;
}

Bytes with_ipl_event(const Bytes& log, uint32_t before, uint32_t pcr, const std::string& text,
                     const std::string& digest_input) {
  eventlog::ParsedLog p = parse(log);
  Bytes ev;
  put_u32(ev, pcr);
  put_u32(ev, 0xD);  // EV_IPL
  put_u32(ev, static_cast<uint32_t>(p.banks().size()));
  for (crypto::HashAlg bank : p.banks()) {
    put_u16(ev, crypto::tpm_alg_id(bank));
    auto d = crypto::digest(bank, as_bytes(digest_input));
    EXPECT_TRUE(d.ok());
    ev.insert(ev.end(), d->begin(), d->end());
  }
  put_u32(ev, static_cast<uint32_t>(text.size() + 1));
  ev.insert(ev.end(), text.begin(), text.end());
  ev.push_back(0);
  const size_t at = p.events().at(before).offset;
  Bytes out = log;
  out.insert(out.begin() + static_cast<std::ptrdiff_t>(at), ev.begin(), ev.end());
  return out;
}

Bytes with_variable_data(const Bytes& log, uint32_t index, const Bytes& data) {
  eventlog::ParsedLog p = parse(log);
  const eventlog::Event& e = p.events().at(index);
  auto var = eventlog::parse_uefi_variable(e.data);
  EXPECT_TRUE(var.ok());
  EXPECT_EQ(var->data.size(), data.size());
  Bytes out = log;
  std::copy(data.begin(), data.end(), out.begin() + static_cast<std::ptrdiff_t>(offset_in(p, var->data)));
  const size_t data_at = offset_in(p, e.data);
  const ByteView new_data(out.data() + data_at, e.data.size());
  for (const eventlog::EventDigest& d : e.digests) {
    auto h = crypto::digest(d.alg, new_data);
    EXPECT_TRUE(h.ok());
    std::copy(h->begin(), h->end(), out.begin() + static_cast<std::ptrdiff_t>(offset_in(p, d.value)));
  }
  return out;
}

}  // namespace tl::test
