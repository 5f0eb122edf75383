// Fuzzes parse_snp_report (with each product hint), snp_report_json and
// parse_snp_cert_table. Input that is all hex text is decoded first, so the
// vector report_milan.hex seeds the report parser. Beyond the sanitizers it
// checks the parser's promises: only 1184-byte inputs parse, a parsed report
// has a supported version and every failure has a message and reason.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "tee/snp_certs.h"
#include "tee/snp_report.h"

using tl::fuzz::check;

namespace {

void fuzz_report(tl::ByteView data) {
  for (int hint = -1; hint < 3; ++hint) {
    std::optional<tl::tee::SnpProduct> p;
    if (hint >= 0) p = static_cast<tl::tee::SnpProduct>(hint);
    auto r = tl::tee::parse_snp_report(data, p);
    if (!r.ok()) {
      check(!r.error().message.empty() && r.error().reason == "snp-report-malformed");
      continue;
    }
    check(data.size() == tl::tee::kSnpReportSize);
    check(r->version >= 2 && r->version <= 5);
    check(r->cpuid_fam_id.has_value() == (r->version >= 3));
    check((r->product == tl::tee::SnpProduct::turin) == r->reported_tcb.fmc.has_value());
    const std::string json = tl::tee::snp_report_json(*r).dump();
    check(!json.empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const tl::ByteView in(data, size);
  fuzz_report(in);
  auto table = tl::tee::parse_snp_cert_table(in);
  if (table.ok()) {
    check(table->vcek.size() <= size && table->ask.size() <= size && table->ark.size() <= size);
  } else {
    check(!table.error().message.empty());
  }
  // Hex text (whitespace allowed): decode and parse the bytes too.
  std::string hex;
  for (size_t i = 0; i < size; ++i) {
    if (std::isspace(data[i])) continue;
    if (!std::isxdigit(data[i])) return 0;
    hex.push_back(static_cast<char>(data[i]));
  }
  if (auto bytes = tl::from_hex(hex); bytes.ok()) fuzz_report(*bytes);
  return 0;
}
