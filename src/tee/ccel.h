// The CCEL event log of a TDX guest (the ACPI CCEL table's log: a TCG
// crypto-agile log with SHA-384 digests, whose "PCR index" is the CC
// measurement register index: 0 = MRTD, 1..4 = RTMR0..3), and its replay.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/hex.h"
#include "common/result.h"
#include "tee/tdx_quote.h"

namespace tl::tee {

struct CcelEvent {
  size_t index = 0;     // position in the log (the header event is 0)
  size_t offset = 0;    // byte offset in the log
  uint32_t mr_index = 0;
  uint32_t event_type = 0;
  Mr48 sha384{};
  Bytes data;
};

struct CcelLog {
  std::vector<CcelEvent> events;  // without the Spec ID header event
};

// Errors name the event index and offset; reason "ccel-malformed". The log must
// carry a SHA-384 bank; trailing 0xFF / 0x00 padding (the ACPI area) is allowed.
Result<CcelLog> parse_ccel(ByteView data);

// RTMR0..3 after replaying every event with mr_index 1..4 from zero.
std::array<Mr48, 4> replay_rtmrs(const CcelLog& log);

// Each replayed RTMR equals the quote's; the error names the RTMR and both
// values (reason "ccel-replay-mismatch").
Status check_ccel_replay(const CcelLog& log, const TdQuoteBody& body);

}  // namespace tl::tee
