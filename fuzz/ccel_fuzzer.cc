// Fuzzes parse_ccel and, on success, the RTMR replay. Promises: event offsets
// increase and lie inside the input, indexes count from 1, every MR index is
// 0..4, replaying twice gives the same RTMRs and check_ccel_replay accepts them.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.h"
#include "tee/ccel.h"

using tl::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto log = tl::tee::parse_ccel(tl::ByteView(data, size));
  if (!log.ok()) {
    check(!log.error().message.empty() && log.error().reason == "ccel-malformed");
    return 0;
  }
  size_t last = 0;
  for (size_t i = 0; i < log->events.size(); ++i) {
    const auto& e = log->events[i];
    check(e.index == i + 1 && e.offset > last && e.offset < size && e.mr_index <= 4);
    check(e.data.size() <= size);
    last = e.offset;
  }
  const auto rtmr = tl::tee::replay_rtmrs(*log);
  check(rtmr == tl::tee::replay_rtmrs(*log));
  tl::tee::TdQuoteBody body;
  body.rtmr = rtmr;
  check(tl::tee::check_ccel_replay(*log, body).ok());
  return 0;
}
