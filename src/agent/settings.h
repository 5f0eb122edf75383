// The agent's settings: the Azure Guest Attestation extension's settings JSON,
// read case-sensitively and strictly (docs/agent.md has every key):
//
//   {"AttestationConfig": {
//      "MaaSettings": {"maaEndpoint": "https://…", "maaTenantName": "…"},
//      "AscSettings": {"ascReportingEndpoint": "https://…", "ascReportingFrequency": "4H"},
//      "AzureStackSettings": {"clusterId": "…", "clusterAadTenantId": "…"},
//      "useCustomToken": "true", "disableAlerts": "false", "isAzureStack": "true"}}
//
// Every error names the JSON path of the offending key (an unknown key also
// gets a "did you mean" when a known key is close) and carries a reason slug
// starting with "settings-".
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "agent/endpoint_url.h"
#include "agent/frequency.h"
#include "common/result.h"

namespace tl::agent {

struct Settings {
  EndpointUrl maa_endpoint;                            // MaaSettings.maaEndpoint (required)
  std::string maa_tenant_name;                         // MaaSettings.maaTenantName, "" when absent
  std::optional<EndpointUrl> asc_reporting_endpoint;   // AscSettings.ascReportingEndpoint
  std::chrono::seconds reporting_frequency = kDefaultFrequency;  // AscSettings.ascReportingFrequency
  std::string cluster_id;                              // AzureStackSettings.clusterId, "" when absent
  std::string cluster_aad_tenant_id;                   // AzureStackSettings.clusterAadTenantId
  bool use_custom_token = false;
  bool disable_alerts = false;
  bool is_azure_stack = false;
};

// Settings documents larger than this are refused before parsing.
inline constexpr size_t kMaxSettingsSize = 64 * 1024;
// Longest accepted free-form string value (tenant name, cluster ids).
inline constexpr size_t kMaxSettingsString = 1024;

Result<Settings> parse_settings(std::string_view json_text);

// Reads and parses a settings file ("settings-unreadable" when it cannot be
// read, "settings-too-large" over kMaxSettingsSize); errors start with the path.
Result<Settings> load_settings(const std::filesystem::path& path);

}  // namespace tl::agent
