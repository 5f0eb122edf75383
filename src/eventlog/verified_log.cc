#include "eventlog/verified_log.h"

#include <algorithm>

#include "eventlog/replay.h"

namespace tl::eventlog {
namespace {

std::string bank_list(const std::vector<crypto::HashAlg>& banks) {
  std::string s;
  for (crypto::HashAlg b : banks) {
    if (!s.empty()) s += ", ";
    s += crypto::hash_name(b);
  }
  return s.empty() ? "none" : s;
}

}  // namespace

bool VerifiedLog::covers(uint32_t pcr) const {
  return std::binary_search(covered_pcrs_.begin(), covered_pcrs_.end(), pcr);
}

Result<VerifiedLog> verify_log(ParsedLog log, const tpm::VerifiedQuote& quote) {
  std::vector<crypto::HashAlg> shared;
  std::vector<crypto::HashAlg> quoted_banks;
  for (const auto& [bank, pcrs] : quote.pcrs()) {
    if (pcrs.empty()) continue;
    quoted_banks.push_back(bank);
  }
  for (crypto::HashAlg b : log.banks())
    if (std::find(quoted_banks.begin(), quoted_banks.end(), b) != quoted_banks.end()) shared.push_back(b);
  if (shared.empty()) {
    return Error{"the quote covers no bank the event log has (quote: " + bank_list(quoted_banks) +
                 "; log: " + bank_list(log.banks()) + ")"};
  }

  auto replayed = replay(log);
  if (!replayed) return with_context("replaying the event log", replayed.take_error());

  // verified[bank] = bitmask of PCRs verified in that bank.
  std::vector<std::pair<crypto::HashAlg, uint32_t>> verified;
  tpm::PcrValues values;
  for (crypto::HashAlg bank : shared) {
    const tpm::PcrMap& quoted = quote.pcrs().at(bank);
    const auto rit = replayed->find(bank);
    uint32_t mask = 0;
    for (const auto& [pcr, qvalue] : quoted) {
      if (pcr >= tpm::kNumPcrs) continue;
      const tpm::PcrMap* rmap = rit == replayed->end() ? nullptr : &rit->second;
      const auto r = rmap ? rmap->find(pcr) : tpm::PcrMap::const_iterator{};
      if (rmap && r != rmap->end()) {
        if (r->second != qvalue) {
          return Error{"bank " + std::string(crypto::hash_name(bank)) + " PCR " + std::to_string(pcr) +
                       ": quoted " + to_hex(qvalue) + " but the event log replays to " +
                       to_hex(r->second)};
        }
      } else if (qvalue != initial_pcr_value(log, bank, pcr)) {
        continue;  // extended by something outside this log: not covered
      }
      mask |= 1u << pcr;
      values[bank].emplace(pcr, qvalue);
    }
    verified.emplace_back(bank, mask);
  }

  VerifiedLog out(std::move(log));
  out.banks_ = shared;
  out.pcrs_ = std::move(values);
  uint32_t any = 0;
  for (const auto& [bank, mask] : verified) any |= mask;
  for (uint32_t i = 0; i < tpm::kNumPcrs; ++i)
    if (any & (1u << i)) out.covered_pcrs_.push_back(i);

  for (const Event& ev : out.log_.events()) {
    if (ev.type == EV_NO_ACTION || ev.pcr >= tpm::kNumPcrs || !(any & (1u << ev.pcr))) continue;
    Event copy;
    copy.index = ev.index;
    copy.offset = ev.offset;
    copy.pcr = ev.pcr;
    copy.type = ev.type;
    copy.data = ev.data;
    for (const EventDigest& d : ev.digests) {
      for (const auto& [bank, mask] : verified)
        if (bank == d.alg && (mask & (1u << ev.pcr))) copy.digests.push_back(d);
    }
    out.events_.push_back(std::move(copy));
  }
  return out;
}

}  // namespace tl::eventlog
