// tlaunchd's HTTP API (docs/api/openapi.yaml): routes onto the Service, with
// request logging, metrics and RFC 7807 errors.
#pragma once

#include "http/http.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/key_service.h"
#include "server/service.h"

namespace tl::server {

// With `keys`, the key vault's routes too (docs/keyvault-api.md).
http::Router make_router(Service& service, Logger& log, Metrics& metrics, KeyService* keys = nullptr);

}  // namespace tl::server
