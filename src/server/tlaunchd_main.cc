// tlaunchd: the trustlaunch attestation service (docs/tlaunchd.md).
#include <pthread.h>

#include <algorithm>
#include <csignal>
#include <thread>
#include <fstream>
#include <sstream>
#include <cstdio>
#include <string>
#include <vector>

#include "fleet/webhooks.h"
#include "server/admin_token.h"
#include "server/config.h"
#include "server/key_service.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/repository.h"
#include "server/routes.h"
#include "server/service.h"
#include "server/sweeper.h"
#include "server/token_issuer.h"

namespace {

using namespace tl::server;

const char kUsage[] = R"(Usage: tlaunchd [serve] [OPTIONS]
       tlaunchd rotate-signing-key [--db FILE] [--config FILE] [--signing-alg ALG]
       tlaunchd allow-reenroll VM_ID [--db FILE] [--config FILE]
       tlaunchd reset-admin-token [--db FILE] [--config FILE] [--admin-token-file FILE]
       tlaunchd --help | --version

The trustlaunch attestation service: enrollment of VM TPMs, challenges,
verification of TPM quotes and boot event logs, signed attestation tokens
(JWT, keys at /certs). API: docs/api/openapi.yaml.

Commands:
  serve               run the service (the default)
  rotate-signing-key  add a new token signing key; the old one stays in /certs
                      until its tokens expire. A running tlaunchd picks it up
                      within 10 s.
  allow-reenroll ID   let VM ID enroll once more with a different EK (after a
                      vTPM was replaced); otherwise such an enrollment is refused
  reset-admin-token   write a new admin token for the fleet API to the admin
                      token file; the old token stops working at once

The fleet API (VM inventory, attestation status, baselines, alerts,
recommendations: docs/fleet-api.md) needs the admin bearer token, which serve
writes at first start to the admin token file (mode 0600).

Options:
)";

int fail(const std::string& m) {
  std::fprintf(stderr, "tlaunchd: %s\n", m.c_str());
  return 1;
}

// A webhook URL for logs: scheme, host and port only. Chat-style webhook URLs
// carry their secret in the path or query.
std::string webhook_origin(const std::string& url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return "(webhook)";
  const auto path = url.find_first_of("/?#", scheme_end + 3);
  return url.substr(0, path) + (path == std::string::npos ? "" : "/…");
}

// The webhook dispatcher, with each secret read from its file (never logged).
tl::Result<std::unique_ptr<tl::fleet::WebhookDispatcher>> open_webhooks(const Config& c, Logger& log) {
  tl::fleet::WebhookOptions o;
  o.max_attempts = c.webhook_max_attempts;
  o.ca_file = c.webhook_ca_file;
  for (const auto& w : c.webhooks) {
    tl::fleet::WebhookTarget t{w.url, std::nullopt};
    if (w.secret_file) {
      std::ifstream in(*w.secret_file, std::ios::binary);
      if (!in) return tl::Error{"webhook " + w.url + ": cannot read secret file " + *w.secret_file};
      std::ostringstream text;
      text << in.rdbuf();
      std::string secret = text.str();
      while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r' || secret.back() == ' ')) secret.pop_back();
      if (secret.empty()) return tl::Error{"webhook " + w.url + ": secret file " + *w.secret_file + " is empty"};
      t.secret = std::move(secret);
    }
    if (w.url.rfind("http://", 0) == 0)
      log.warn("webhook without TLS: alert payloads travel in clear", {{"webhook", webhook_origin(w.url)}});
    o.targets.push_back(std::move(t));
  }
  o.on_report = [&log](const tl::fleet::WebhookReport& report) {
    using O = tl::fleet::WebhookReport::Outcome;
    tl::fleet::WebhookReport r = report;
    for (size_t at; !r.url.empty() && (at = r.error.find(r.url)) != std::string::npos;)
      r.error.replace(at, r.url.size(), webhook_origin(r.url));
    if (r.outcome == O::retry_scheduled)
      log.warn("webhook delivery failed; will retry", {{"webhook", webhook_origin(r.url)}, {"event", r.event_id}, {"attempt", r.attempt},
                                                        {"error", r.error}});
    else if (r.outcome == O::gave_up)
      log.error("webhook delivery given up", {{"webhook", webhook_origin(r.url)}, {"event", r.event_id}, {"attempt", r.attempt},
                                              {"error", r.error}});
  };
  o.on_error = [&log](const tl::Error& e) { log.error("webhook dispatcher", {{"error", e.message}}); };
  return tl::fleet::WebhookDispatcher::open(c.database, std::move(o));
}

// Handlers block on durable writes (a key release waits for its audit entry's
// fsync, which commits in batches): with one worker per core, two cores would
// serve ~400 releases/s while idle. Blocked workers cost no CPU, so run more.
unsigned default_worker_threads() {
  return std::max(16u, 8u * std::max(1u, std::thread::hardware_concurrency()));
}

int serve(const Config& c) {
  // Block the stop signals before any thread starts (threads inherit the
  // mask), then wait for them with sigwait: no window to miss one.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  Logger log(c.log_level);
  Metrics metrics;
  auto service = Service::open(c, log, metrics);
  if (!service) return fail(service.error().message);
  const std::string token_file = c.effective_admin_token_file();
  auto created = ensure_admin_token((*service)->repository(), token_file, (*service)->now());
  if (!created) return fail("admin token: " + created.error().message);
  if (*created) log.info("admin token for the fleet API written", {{"file", token_file}});
  auto keys = KeyService::open(c, **service, log);
  if (!keys) return fail(keys.error().message);
  log.info("key vault open", {{"kek", (*keys)->kek_description()}});
  (*keys)->start_purger();
  Sweeper sweeper((*service)->fleet(), log, tl::verify::system_clock(), std::chrono::seconds(c.sweep_interval_seconds));
  std::unique_ptr<tl::fleet::WebhookDispatcher> webhooks;
  if (!c.webhooks.empty()) {
    auto w = open_webhooks(c, log);
    if (!w) return fail(w.error().message);
    webhooks = std::move(*w);
    webhooks->start();
  }
  tl::http::ServerOptions so;
  so.bind_address = c.listen_address;
  so.port = c.port;
  so.threads = c.threads != 0 ? c.threads : default_worker_threads();
  if (c.tls()) so.tls = tl::http::TlsFiles{*c.tls_certificate, *c.tls_private_key};
  so.client_ca_file = c.client_ca_file;
  auto server = tl::http::Server::start(so, make_router(**service, log, metrics, keys->get()),
                                        [&log](std::string_view e) { log.error("http", {{"error", std::string(e)}}); });
  if (!server) return fail(server.error().message);
  (*service)->set_bound_port((*server)->port());
  log.info("listening", {{"address", c.listen_address}, {"port", (*server)->port()}, {"tls", c.tls()},
                         {"issuer", (*service)->issuer().issuer()}, {"database", c.database}});
  int sig = 0;
  sigwait(&stop_signals, &sig);
  log.info("stopping", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
  (*server)->stop();
  if (webhooks) webhooks->stop();
  (*keys)->stop_purger();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string command = "serve";
  if (!args.empty() && args[0].rfind("--", 0) != 0) {
    command = args[0];
    args.erase(args.begin());
  }
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      std::printf("%s%s", kUsage, config_flags_help());
      return 0;
    }
    if (a == "--version") {
      std::printf("tlaunchd %s\n", TL_VERSION);
      return 0;
    }
  }
  std::string vm_id;
  if (command == "allow-reenroll") {
    if (args.empty() || args[0].rfind("--", 0) == 0) return fail("allow-reenroll needs a VM id");
    vm_id = args[0];
    args.erase(args.begin());
  }
  auto config = config_from_args(args);
  if (!config) return fail(config.error().message);
  if (auto st = validate(*config); !st) return fail(st.error().message);
  if (command == "serve") return serve(*config);
  auto repo = Repository::open(config->database, 1);
  if (!repo) return fail(repo.error().message);
  if (command == "rotate-signing-key") {
    auto kid = TokenIssuer::rotate(**repo, config->signing_alg, config->token_lifetime_seconds,
                                   tl::verify::system_clock()());
    if (!kid) return fail(kid.error().message);
    std::printf("new signing key %s is active; older keys stay in /certs until their tokens expire\n", kid->c_str());
    return 0;
  }
  if (command == "allow-reenroll") {
    if (auto st = (*repo)->allow_reenroll(vm_id); !st) return fail(st.error().message);
    std::printf("VM %s may enroll once with a different EK\n", vm_id.c_str());
    return 0;
  }
  if (command == "reset-admin-token") {
    const std::string file = config->effective_admin_token_file();
    if (auto st = reset_admin_token(**repo, file, tl::verify::system_clock()()); !st) return fail(st.error().message);
    std::printf("new admin token written to %s; the old one no longer works\n", file.c_str());
    return 0;
  }
  return fail("unknown command '" + command + "' (see tlaunchd --help)");
}
