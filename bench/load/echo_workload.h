// The reference workload every candidate server runs for the comparison in
// docs/http-server.md: parse a ~4 KiB JSON body, spend `work_us` of CPU (a
// stand-in for verification), answer ~1 KiB of JSON.
#pragma once

#include <string>
#include <string_view>

namespace tl::loadgen {

// Returns the response body; throws on a body that is not JSON.
std::string echo_workload(std::string_view request_body, unsigned work_us);

}  // namespace tl::loadgen
