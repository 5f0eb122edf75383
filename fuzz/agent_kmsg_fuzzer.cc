// Fuzzes the kernel module report's parsers (src/agent/kernel_modules.h) on the
// same bytes: kernel log text (kmsg records or dmesg/journal lines), the IMA
// measurement list, the taint file, and module names from paths.
// Invariants: no crash or sanitizer report; every name found is a valid module
// name (what the evidence decoder will accept) and listed once; counters agree
// with the input; an accepted taint prints back to the same digits.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "agent/kernel_modules.h"
#include "fuzz_support.h"

using tl::fuzz::check;

namespace {

void check_names(const std::vector<std::string>& names) {
  check(std::set<std::string>(names.begin(), names.end()).size() == names.size());
  for (const auto& n : names) check(tl::agent::valid_module_name(n));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1;

  const tl::agent::KernelLogFindings log = tl::agent::scan_kernel_log(text);
  check_names(log.unsigned_modules);
  check_names(log.rejected_modules);
  check(log.lines <= lines);
  check(log.skipped <= log.lines);

  const tl::agent::ImaFindings ima = tl::agent::scan_ima_log(text);
  check_names(ima.unsigned_modules);
  check(ima.lines <= lines);
  check(ima.unsigned_modules.size() <= ima.module_entries);
  check(ima.module_entries + ima.malformed <= ima.lines);

  auto taint = tl::agent::parse_taint(text);
  if (taint.ok()) {
    std::string digits(text);
    if (!digits.empty() && digits.back() == '\n') digits.pop_back();
    // Canonical or with leading zeros: the value is the same number.
    const size_t first = std::min(digits.find_first_not_of('0'), digits.size() - 1);
    check(std::to_string(*taint) == digits.substr(first));
  } else {
    check(taint.error().reason == "taint-malformed" && !taint.error().message.empty());
  }

  const std::string name = tl::agent::module_name_from_path(text);
  check(name.empty() || tl::agent::valid_module_name(name));
  check(name.find('-') == std::string::npos);  // the kernel's spelling
  return 0;
}
