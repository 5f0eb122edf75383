// Fuzzes the agent's settings parser. The first byte picks a mode; the rest is
// either the whole document or one part spliced into a valid document, so the
// deep checks (URL, frequency, booleans, key suggestions) are reached without a
// corpus. Invariants: every error has a message and a "settings-" reason; an
// accepted document holds only values the schema allows (http(s) endpoints
// that re-parse to themselves, a frequency within bounds, a cluster id when
// isAzureStack).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "agent/endpoint_url.h"
#include "agent/frequency.h"
#include "agent/settings.h"
#include "fuzz_support.h"

using tl::fuzz::check;
using json = nlohmann::json;

namespace {

const char* const kBase = R"({"AttestationConfig":{
  "MaaSettings":{"maaEndpoint":"https://sharedeus.eus.attest.azure.net","maaTenantName":"GuestAttestation"},
  "AscSettings":{"ascReportingEndpoint":"https://asc.example.net/report","ascReportingFrequency":"4H"},
  "AzureStackSettings":{"clusterId":"c1","clusterAadTenantId":"t1"},
  "useCustomToken":"true","disableAlerts":"false","isAzureStack":"true"}})";

// `s` as a JSON string literal whatever its bytes.
std::string as_json_string(std::string_view s) {
  return json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string splice(const std::string& base, std::string_view placeholder, const std::string& with) {
  std::string out = base;
  const size_t at = out.find(placeholder);
  check(at != std::string::npos);
  out.replace(at, placeholder.size(), with);
  return out;
}

void check_error(const tl::Error& e) {
  check(!e.message.empty());
  check(e.reason.rfind("settings-", 0) == 0);
}

void check_url(const tl::agent::EndpointUrl& u) {
  check(u.scheme == "https" || u.scheme == "http");
  check(!u.host.empty());
  check(u.port != 0);
  check(!u.path.empty() && u.path.front() == '/');
  auto again = tl::agent::parse_endpoint_url(u.str());
  check(again.ok());
  check(*again == u);
}

void check_settings(std::string_view text) {
  auto s = tl::agent::parse_settings(text);
  if (!s.ok()) {
    check_error(s.error());
    return;
  }
  check_url(s->maa_endpoint);
  if (s->asc_reporting_endpoint) check_url(*s->asc_reporting_endpoint);
  check(s->reporting_frequency >= tl::agent::kMinFrequency && s->reporting_frequency <= tl::agent::kMaxFrequency);
  check(!s->is_azure_stack || !s->cluster_id.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 8) {
    case 0:
      check_settings(rest);
      break;
    case 1:
      check_settings(splice(kBase, "\"https://sharedeus.eus.attest.azure.net\"", as_json_string(rest)));
      break;
    case 2:
      check_settings(splice(kBase, "\"4H\"", as_json_string(rest)));
      break;
    case 3:  // a key name where a known key was
      check_settings(splice(kBase, "\"maaTenantName\"", as_json_string(rest)));
      break;
    case 4:  // raw JSON as a boolean's value
      check_settings(splice(kBase, "\"false\"", std::string(rest)));
      break;
    case 5: {
      auto u = tl::agent::parse_endpoint_url(rest);
      if (u.ok()) {
        check_url(*u);
      } else {
        check_error(u.error());
      }
      break;
    }
    case 6: {
      auto f = tl::agent::parse_frequency(rest);
      if (f.ok()) {
        check(*f >= tl::agent::kMinFrequency && *f <= tl::agent::kMaxFrequency);
        check(tl::agent::parse_frequency(tl::agent::format_frequency(*f)).ok());
      } else {
        check_error(f.error());
      }
      break;
    }
    default:  // raw JSON as the whole AttestationConfig
      check_settings(R"({"AttestationConfig":)" + std::string(rest) + "}");
      break;
  }
  return 0;
}
