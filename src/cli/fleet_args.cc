#include "cli/fleet_args.h"

#include <charconv>
#include <cstdio>
#include <set>

#include "cli/api_client.h"

namespace tl::cli {

namespace {

std::string joined(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

}  // namespace

int print_help(const char* head, const char* exit_status) {
  std::fputs(head, stdout);
  std::fputs(
      "  --server URL       tlaunchd (default $TLAUNCH_SERVER, else https://127.0.0.1:8443)\n"
      "  --token-file FILE  tlaunchd's admin token (default $TLAUNCH_TOKEN_FILE; tlaunchd\n"
      "                     writes it to <database>.admin-token)\n"
      "  --cacert FILE      CA certificates for the server's TLS certificate\n"
      "                     (default $TLAUNCH_CACERT, else the system store)\n"
      "  --json             print the server's JSON, indented, instead of text\n"
      "\n",
      stdout);
  std::fputs(exit_status, stdout);
  return kExitOk;
}

Status expect_positionals(const ParsedOptions& o, std::initializer_list<const char*> names) {
  const auto& p = o.positionals;
  if (p.size() > names.size()) return usage_error("unexpected argument '" + p[names.size()] + "'");
  if (p.size() < names.size()) return usage_error(std::string("missing ") + names.begin()[p.size()]);
  return {};
}

Status check_name(const char* what, const std::string& value) {
  const bool chars_ok = !value.empty() && value.size() <= 64 && value.find_first_not_of(
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == std::string::npos;
  if (!chars_ok || value == "." || value == "..") {
    return usage_error(std::string(what) + " '" + value + "' is not valid: 1-64 of A-Z a-z 0-9 . _ -");
  }
  return {};
}

Result<std::optional<bool>> on_off(const ParsedOptions& o, const std::string& option) {
  auto v = o.value(option);
  if (!v) return std::optional<bool>();
  if (*v == "on") return std::optional<bool>(true);
  if (*v == "off") return std::optional<bool>(false);
  return usage_error(option + " takes on or off, not '" + *v + "'");
}

Result<std::optional<std::string>> one_of(const ParsedOptions& o, const std::string& option,
                                          const std::vector<std::string>& allowed) {
  auto v = o.value(option);
  if (!v) return std::optional<std::string>();
  for (const auto& a : allowed) {
    if (*v == a) return v;
  }
  return usage_error(option + " takes " + joined(allowed, "|") + ", not '" + *v + "'");
}

Result<int64_t> positive_integer(const char* what, const std::string& text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end || value <= 0) {
    return usage_error(std::string(what) + " must be a positive integer, not '" + text + "'");
  }
  return value;
}

Result<std::vector<int>> parse_pcr_list(const std::string& text) {
  std::vector<int> pcrs;
  std::set<int> seen;
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    int pcr = -1;
    const char* end = item.data() + item.size();
    auto [ptr, ec] = std::from_chars(item.data(), end, pcr);
    if (item.empty() || ec != std::errc{} || ptr != end || pcr < 0 || pcr > 23) {
      return usage_error("--pcrs '" + text + "': '" + item + "' is not a PCR index 0-23 (give e.g. 0,2,4,7)");
    }
    if (!seen.insert(pcr).second) return usage_error("--pcrs '" + text + "': PCR " + item + " given twice");
    pcrs.push_back(pcr);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return pcrs;
}

}  // namespace tl::cli
