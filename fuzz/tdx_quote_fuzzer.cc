// Fuzzes parse_tdx_quote. Promises checked beyond the sanitizers: an input that
// parses re-serialises to exactly its first `size` bytes, re-parses to the same
// bytes, its JSON dumps, and the verifier never reports success for it without
// every check passed. The TDREPORT parser gets the first 1024 bytes.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "fuzz_support.h"
#include "tee/tdx_quote.h"
#include "tee/tdx_verify.h"

using tl::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const tl::ByteView in(data, size);
  if (size >= tl::tee::kTdReportSize) (void)tl::tee::parse_td_report(in.first(tl::tee::kTdReportSize));
  auto q = tl::tee::parse_tdx_quote(in);
  if (!q.ok()) {
    check(!q.error().message.empty() && q.error().reason == "tdx-quote-malformed");
    return 0;
  }
  check(q->size + q->trailing_bytes == size);
  const tl::Bytes out = tl::tee::serialize_tdx_quote(*q);
  check(out.size() == q->size && std::equal(out.begin(), out.end(), data));
  auto again = tl::tee::parse_tdx_quote(out);
  check(again.ok() && again->trailing_bytes == 0 && tl::tee::serialize_tdx_quote(*again) == out);
  check(!tl::tee::tdx_quote_json(*q).dump().empty());
  tl::tee::TdxVerifyOptions o;
  o.at = 1770076800;
  auto r = tl::tee::check_tdx_quote(in, o);
  bool all = !r.checks.empty();
  for (const auto& c : r.checks) all = all && c.passed && c.reason.empty();
  check(r.ok() == all);
  return 0;
}
