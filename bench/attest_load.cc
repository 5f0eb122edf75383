// attest-load: the whole attestation HTTP path under load. Many simulated
// agents (connections; one TPM attests for one VM, so they share the VM id of
// the one real vTPM) send evidence made in advance
// for challenges the service issued (the issue allows pre-made evidence under
// fresh nonces), each used once; the service verifies everything it would for
// a real agent (challenge MAC + expiry + single use, enrolled AK, quote, event
// log replay and facts, runtime key certification) and signs a token.
//
//   attest-load --endpoint URL --tcti TCTI --eventlog FILE
//               [--requests 20000] [--connections 64] [--seconds 60] [--ca FILE]
//               [--rate RPS]
// Prints one JSON line: preparation time, then the load result.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/client/attestation_client.h"
#include "load/loadgen.h"
#include "token/base64url.h"

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

int usage() {
  std::fprintf(stderr,
               "usage: attest-load --endpoint URL --tcti TCTI --eventlog FILE [--requests N]\n"
               "                   [--connections N] [--seconds S] [--ca FILE] [--rate RPS]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string endpoint, tcti, eventlog;
  std::optional<std::string> ca;
  size_t requests = 20000;
  unsigned connections = 64;
  double seconds = 60, rate = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return usage();
    std::string v = argv[++i];
    if (a == "--endpoint") endpoint = v;
    else if (a == "--tcti") tcti = v;
    else if (a == "--eventlog") eventlog = v;
    else if (a == "--requests") requests = std::strtoull(v.c_str(), nullptr, 10);
    else if (a == "--connections") connections = static_cast<unsigned>(std::strtoul(v.c_str(), nullptr, 10));
    else if (a == "--seconds") seconds = std::strtod(v.c_str(), nullptr);
    else if (a == "--rate") rate = std::strtod(v.c_str(), nullptr);
    else if (a == "--ca") ca = v;
    else return usage();
  }
  if (endpoint.empty() || tcti.empty() || eventlog.empty() || requests == 0 || connections == 0 ||
      requests > 1'000'000)
    return usage();

  // The VM the vTPM attests for, enrolled once (credential activation).
  const auto prep_start = Clock::now();
  const std::string vm_id = "10ad0000-0000-4000-8000-000000000001";
  tl::agent::AgentOptions o;
  o.endpoint = endpoint;
  o.ca_file = ca;
  o.tcti = tcti;
  o.eventlog = eventlog;
  o.state_dir = "/tmp/tl-attest-load-state";
  o.vm_id = vm_id;
  auto maker = tl::agent::AttestationClient::create(o);
  if (!maker) return std::fprintf(stderr, "attest-load: %s\n", maker.error().message.c_str()), 1;
  if (auto st = (*maker)->enroll(); !st) return std::fprintf(stderr, "attest-load: enroll: %s\n", st.error().message.c_str()), 1;
  const double enroll_s = std::chrono::duration<double>(Clock::now() - prep_start).count();

  // Evidence for `requests` challenges, each quoted by the vTPM for its nonce.
  std::vector<std::string> bodies(requests);
  tl::http::ClientOptions hopts;
  hopts.ca_file = ca;
  auto http = tl::http::Client::create(endpoint, hopts);
  if (!http) return std::fprintf(stderr, "attest-load: %s\n", http.error().message.c_str()), 1;
  const auto evidence_start = Clock::now();
  for (size_t i = 0; i < requests; ++i) {
    auto ch = (*http)->post_json("/challenge", json{{"vmId", vm_id}}.dump());
    if (!ch || ch->status != 200) return std::fprintf(stderr, "attest-load: challenge failed\n"), 1;
    auto nonce = tl::token::base64url_decode(json::parse(ch->body)["nonce"].get<std::string>());
    auto ev = (*maker)->collect_evidence(*nonce);
    if (!ev) return std::fprintf(stderr, "attest-load: evidence: %s\n", ev.error().message.c_str()), 1;
    bodies[i] = ev->dump();
  }
  const double evidence_s = std::chrono::duration<double>(Clock::now() - evidence_start).count();

  tl::loadgen::LoadSpec spec;
  spec.url = endpoint;
  spec.connections = connections;
  spec.total_requests = requests;
  spec.max_seconds = seconds;
  spec.ca_file = ca;
  spec.rate = rate;
  spec.make_request = [&bodies](size_t i) {
    tl::loadgen::Request r;
    r.path = "/attest";
    r.body = bodies[i];
    return r;
  };
  spec.check = [](const tl::http::Response& r) { return r.status == 200 && r.body.rfind("{\"token\":\"", 0) == 0; };
  auto result = tl::loadgen::run(spec);
  if (!result) return std::fprintf(stderr, "attest-load: %s\n", result.error().message.c_str()), 1;
  json out = json::parse(tl::loadgen::to_json(*result));
  out["connections"] = connections;
  out["evidence_bytes"] = bodies[0].size();
  out["enroll_seconds"] = enroll_s;
  out["evidence_seconds"] = evidence_s;
  std::printf("%s\n", out.dump().c_str());
  return result->failed == 0 ? 0 : 1;
}
