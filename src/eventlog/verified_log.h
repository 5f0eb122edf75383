// An event log whose replay matched a verified TPM quote: the trust boundary.
// Appraisal, tokens, baselines and key release take this type, never ParsedLog.
#pragma once

#include <cstdint>
#include <vector>

#include "common/result.h"
#include "eventlog/parsed_log.h"
#include "tpm/pcr.h"
#include "tpm/verified_quote.h"

namespace tl::eventlog {

class VerifiedLog;

// Replays `log` and checks it against the quote. For every bank both carry and
// every PCR the quote selects in that bank:
//   - a PCR the log extends must replay to exactly the quoted value (else error
//     naming bank, PCR, quoted and replayed hex);
//   - a PCR the log does not extend is covered when its quoted value is the
//     initial value (the log truly has no events for it); otherwise it was
//     extended outside the firmware log (IMA, systemd, …) and is left uncovered.
// Errors when the quote and the log share no bank.
Result<VerifiedLog> verify_log(ParsedLog log, const tpm::VerifiedQuote& quote);

class VerifiedLog {
 public:
  VerifiedLog(VerifiedLog&&) noexcept = default;
  VerifiedLog& operator=(VerifiedLog&&) noexcept = default;
  VerifiedLog(const VerifiedLog&) = delete;
  VerifiedLog& operator=(const VerifiedLog&) = delete;

  // Measured events (EV_NO_ACTION excluded) whose PCR is covered, in log order.
  // Each event keeps only the digests of banks in which its PCR was verified.
  // Events on uncovered PCRs are not here: nothing vouches for them.
  const std::vector<Event>& events() const { return events_; }
  // PCRs verified in at least one bank, ascending.
  const std::vector<uint32_t>& covered_pcrs() const { return covered_pcrs_; }
  bool covers(uint32_t pcr) const;
  // Banks both the log and the quote carry, in the log's order.
  const std::vector<crypto::HashAlg>& verified_banks() const { return banks_; }
  // Verified values: for each verified bank, each covered PCR's quoted value.
  const tpm::PcrValues& pcrs() const { return pcrs_; }
  LogFormat format() const { return log_.format(); }
  // Meaningful only when PCR 0 is covered (it set PCR 0's initial value).
  uint8_t startup_locality() const { return log_.startup_locality(); }

 private:
  explicit VerifiedLog(ParsedLog log) : log_(std::move(log)) {}
  friend Result<VerifiedLog> verify_log(ParsedLog log, const tpm::VerifiedQuote& quote);

  ParsedLog log_;  // owns the bytes the events view into
  std::vector<Event> events_;
  std::vector<uint32_t> covered_pcrs_;
  std::vector<crypto::HashAlg> banks_;
  tpm::PcrValues pcrs_;
};

}  // namespace tl::eventlog
