// One process serving POST /echo (bench/load/echo_workload.h) with one of the
// candidate libraries, for the comparison in docs/http-server.md:
//   http_candidates --lib tl|httplib|civetweb --threads N --work-us US
//                   [--cert chain.pem --key key.pem] [--lifetime S]
// Prints "port N" once listening; exits on SIGTERM/SIGINT or after --lifetime.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "load/candidates.h"

int main(int argc, char** argv) {
  tl::bench::CandidateConfig config;
  std::string lib = "tl";
  double lifetime = 600;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    const char* value = argv[i + 1];
    if (arg == "--lib") lib = value;
    else if (arg == "--threads") config.threads = static_cast<unsigned>(std::strtoul(value, nullptr, 10));
    else if (arg == "--work-us") config.work_us = static_cast<unsigned>(std::strtoul(value, nullptr, 10));
    else if (arg == "--cert") config.cert = value;
    else if (arg == "--key") config.key = value;
    else if (arg == "--lifetime") lifetime = std::strtod(value, nullptr);
    else {
      std::fprintf(stderr, "unknown option %s\n", arg.c_str());
      return 2;
    }
  }
  // Block the stop signals before any server thread exists, then wait for one.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto server = tl::bench::start_candidate(lib, config);
  if (!server) {
    std::fprintf(stderr, "http_candidates: %s\n", server.error().message.c_str());
    return 1;
  }
  std::printf("port %u\n", static_cast<unsigned>((*server)->port()));
  std::fflush(stdout);
  timespec wait{static_cast<time_t>(lifetime), 0};
  sigtimedwait(&stop_signals, nullptr, &wait);
  (*server)->stop();
  return 0;
}
