// The guest agent's settings as they reach the guest through fw_cfg
// (opt/org.trustlaunch/agent.conf): text, one key=value per line.
//   endpoint=URL          tlaunchd as the guest sees it
//   attest_interval=N     seconds between attestations (optional)
//   release_key=NAME      a key to release after attesting (repeatable)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace tl::host {

struct AgentSettings {
  std::string endpoint;
  int64_t attest_interval = 0;  // 0: not written (the agent's default)
  std::vector<std::string> release_keys;
};

// An empty endpoint writes no endpoint line (the guest reports no-config).
// Refuses values that could not round-trip: a non-http(s) endpoint, control
// characters or '=' / newline inside a value, key names outside
// [A-Za-z0-9._-]{1,127}.
Result<std::string> agent_conf_text(const AgentSettings& s);

// tlaunchd's URL as seen from a guest on QEMU user networking: the host's
// loopback (127.0.0.1, localhost, [::1]) is 10.0.2.2 there. Other hosts stay.
std::string guest_view_of(const std::string& server_url);

}  // namespace tl::host
