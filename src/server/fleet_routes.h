// tlaunchd's fleet API (docs/fleet-api.md): inventory, status, baselines,
// alerts, suppressions, recommendations, summary. Every route needs the admin
// bearer token (server/admin_token.h).
#pragma once

#include "http/http.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/service.h"

namespace tl::server {

void add_fleet_routes(http::Router& r, Service& service, Logger& log, Metrics& metrics);

}  // namespace tl::server
