// tlaunchd: the trustlaunch attestation service (docs/tlaunchd.md).
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "server/config.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/repository.h"
#include "server/routes.h"
#include "server/service.h"
#include "server/token_issuer.h"

namespace {

using namespace tl::server;

const char kUsage[] = R"(Usage: tlaunchd [serve] [OPTIONS]
       tlaunchd rotate-signing-key [--db FILE] [--config FILE] [--signing-alg ALG]
       tlaunchd allow-reenroll VM_ID [--db FILE] [--config FILE]
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

Options:
)";

int fail(const std::string& m) {
  std::fprintf(stderr, "tlaunchd: %s\n", m.c_str());
  return 1;
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
  tl::http::ServerOptions so;
  so.bind_address = c.listen_address;
  so.port = c.port;
  so.threads = c.threads;
  if (c.tls()) so.tls = tl::http::TlsFiles{*c.tls_certificate, *c.tls_private_key};
  auto server = tl::http::Server::start(so, make_router(**service, log, metrics),
                                        [&log](std::string_view e) { log.error("http", {{"error", std::string(e)}}); });
  if (!server) return fail(server.error().message);
  (*service)->set_bound_port((*server)->port());
  log.info("listening", {{"address", c.listen_address}, {"port", (*server)->port()}, {"tls", c.tls()},
                         {"issuer", (*service)->issuer().issuer()}, {"database", c.database}});
  int sig = 0;
  sigwait(&stop_signals, &sig);
  log.info("stopping", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
  (*server)->stop();
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
  return fail("unknown command '" + command + "' (see tlaunchd --help)");
}
