// tlaunchd's key vault API (docs/keyvault-api.md): /keys, /deletedkeys and
// /vault (tokens, access policies, audit).
#pragma once

#include "http/http.h"
#include "server/key_service.h"
#include "server/log.h"
#include "server/metrics.h"

namespace tl::server {

void add_key_routes(http::Router& r, KeyService& keys, Logger& log, Metrics& metrics);

}  // namespace tl::server
