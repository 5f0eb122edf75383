// Fuzzes ParsedLog::parse and, on success, replay(). Beyond the sanitizers it
// checks the parser's promises: every event views into the log's own buffer,
// offsets increase, and each crypto-agile event has one digest per bank.
#include <cstddef>
#include <cstdint>

#include "eventlog/parsed_log.h"
#include "eventlog/replay.h"
#include "fuzz_support.h"

using tl::fuzz::check;
using tl::fuzz::inside;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto log = tl::eventlog::ParsedLog::parse(tl::Bytes(data, data + size));
  if (!log.ok()) {
    check(!log.error().message.empty());
    return 0;
  }
  const tl::ByteView all = log->bytes();
  size_t last = 0;
  for (const auto& e : log->events()) {
    check(e.index == 0 || e.offset > last);
    last = e.offset;
    check(inside(all, e.data));
    for (const auto& d : e.digests) check(inside(all, d.value) && d.value.size() == tl::crypto::digest_size(d.alg));
    if (e.index > 0) check(e.digests.size() == log->banks().size());
  }
  auto pcrs = tl::eventlog::replay(*log);
  check(pcrs.ok());
  return 0;
}
