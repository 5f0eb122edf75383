#include "eventlog/replay.h"

#include <array>
#include <cstring>

namespace tl::eventlog {
namespace {

constexpr size_t kMaxDigest = 64;  // SHA-512

// Replay state of one bank, in fixed arrays so that the per-event work is two
// hash updates and a copy, with no map lookups.
struct BankState {
  crypto::HashAlg alg;
  size_t size;
  crypto::Hasher hasher;
  std::array<std::array<uint8_t, kMaxDigest>, tpm::kNumPcrs> pcr{};
  uint32_t touched = 0;  // bit i: PCR i appears in the result
};

uint8_t pcr0_locality(const ParsedLog& log) {
  if (log.has_hcrtm()) return 4;
  return log.startup_locality();
}

}  // namespace

Bytes initial_pcr_value(const ParsedLog& log, crypto::HashAlg bank, uint32_t pcr) {
  Bytes v(crypto::digest_size(bank), 0);
  if (pcr == 0) v.back() = pcr0_locality(log);
  return v;
}

Result<tpm::PcrValues> replay(const ParsedLog& log) {
  std::vector<BankState> banks;
  banks.reserve(log.banks().size());
  for (crypto::HashAlg alg : log.banks()) {
    auto h = crypto::Hasher::create(alg);
    if (!h) return h.take_error();
    BankState& b = banks.emplace_back(BankState{alg, crypto::digest_size(alg), std::move(*h), {}, 0});
    b.pcr[0][b.size - 1] = pcr0_locality(log);
    if (log.has_startup_locality()) b.touched |= 1u;
  }

  for (const Event& ev : log.events()) {
    if (ev.type == EV_NO_ACTION) continue;
    // The parser guarantees pcr < kNumPcrs and one digest per declared bank,
    // each of that bank's size; check anyway since this is the trust path.
    if (ev.pcr >= tpm::kNumPcrs) {
      return Error{"event " + std::to_string(ev.index) + ": pcr " + std::to_string(ev.pcr) +
                   " out of range"};
    }
    for (const EventDigest& d : ev.digests) {
      BankState* b = nullptr;
      for (BankState& s : banks)
        if (s.alg == d.alg) b = &s;
      if (b == nullptr || d.value.size() != b->size) {
        return Error{"event " + std::to_string(ev.index) + ": " +
                     std::string(crypto::hash_name(d.alg)) + " digest does not fit the log's banks"};
      }
      auto& value = b->pcr[ev.pcr];
      b->hasher.update(ByteView(value.data(), b->size));
      b->hasher.update(d.value);
      const Bytes next = b->hasher.finish();
      std::memcpy(value.data(), next.data(), b->size);
      b->touched |= 1u << ev.pcr;
    }
  }

  tpm::PcrValues out;
  for (const BankState& b : banks) {
    tpm::PcrMap& m = out[b.alg];
    for (uint32_t i = 0; i < tpm::kNumPcrs; ++i) {
      if (b.touched & (1u << i)) m.emplace(i, Bytes(b.pcr[i].begin(), b.pcr[i].begin() + b.size));
    }
  }
  return out;
}

}  // namespace tl::eventlog
