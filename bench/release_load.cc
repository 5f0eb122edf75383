// release-load: Secure Key Release over HTTP under load. A real vTPM attests
// once (its token names the TPM-resident runtime key); then many connections
// release an RSA-2048 key and an AES-256 key to it with that token, each
// release doing everything a real one does: API token lookup, access check,
// the token's signature, time window and issuer, the release policy, unsealing
// the key material, RSA-OAEP + AES-KWP wrapping, the signed answer, and the
// durable audit entry.
//
//   release-load --endpoint URL --admin-token-file F --tcti TCTI --eventlog FILE
//                [--requests 20000] [--connections 32] [--seconds 60]
// Prints one JSON line per key type.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/client/attestation_client.h"
#include "load/loadgen.h"
#include "token/base64url.h"

namespace {

using nlohmann::json;

int usage() {
  std::fprintf(stderr,
               "usage: release-load --endpoint URL --admin-token-file FILE --tcti TCTI --eventlog FILE\n"
               "                    [--requests N] [--connections N] [--seconds S]\n");
  return 2;
}

tl::Result<json> call(tl::http::Client& c, const std::string& method, const std::string& path,
                      const std::string& bearer, const json& body, int expect) {
  tl::http::Headers h{{"Authorization", "Bearer " + bearer}, {"Content-Type", "application/json"}};
  auto r = c.request(method, path, body.is_null() ? std::string() : body.dump(), h);
  if (!r) return r.take_error();
  if (r->status != expect)
    return tl::Error{method + " " + path + ": HTTP " + std::to_string(r->status) + ": " + r->body};
  return json::parse(r->body, nullptr, false);
}

}  // namespace

int main(int argc, char** argv) {
  std::string endpoint, admin_file, tcti, eventlog;
  size_t requests = 20000;
  unsigned connections = 32;
  double seconds = 60;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return usage();
    std::string v = argv[++i];
    if (a == "--endpoint") endpoint = v;
    else if (a == "--admin-token-file") admin_file = v;
    else if (a == "--tcti") tcti = v;
    else if (a == "--eventlog") eventlog = v;
    else if (a == "--requests") requests = std::strtoull(v.c_str(), nullptr, 10);
    else if (a == "--connections") connections = static_cast<unsigned>(std::strtoul(v.c_str(), nullptr, 10));
    else if (a == "--seconds") seconds = std::strtod(v.c_str(), nullptr);
    else return usage();
  }
  if (endpoint.empty() || admin_file.empty() || tcti.empty() || eventlog.empty() || requests == 0 ||
      connections == 0 || requests > 1'000'000)
    return usage();
  std::string admin;
  std::getline(std::ifstream(admin_file), admin);

  // One real attestation: the token carries the vTPM's runtime key.
  tl::agent::AgentOptions o;
  o.endpoint = endpoint;
  o.tcti = tcti;
  o.eventlog = eventlog;
  o.state_dir = "/tmp/tl-release-load-state";
  o.vm_id = "5e1ea5e0-0000-4000-8000-000000000001";
  auto agent = tl::agent::AttestationClient::create(o);
  if (!agent) return std::fprintf(stderr, "release-load: %s\n", agent.error().message.c_str()), 1;
  auto att = (*agent)->attest();
  if (!att) return std::fprintf(stderr, "release-load: attest: %s\n", att.error().message.c_str()), 1;

  auto http = tl::http::Client::create(endpoint);
  if (!http) return std::fprintf(stderr, "release-load: %s\n", http.error().message.c_str()), 1;
  const json policy = {{"version", "1.0.0"},
                       {"anyOf", {{{"authority", endpoint},
                                   {"allOf", {{{"claim", "secureboot"}, {"equals", true}},
                                              {{"claim", "x-ms-azurevm-vmid"}, {"equals", o.vm_id}}}}}}}};
  const std::string policy_text = policy.dump();
  const json release_policy = {
      {"data", tl::token::base64url_encode(tl::ByteView(reinterpret_cast<const uint8_t*>(policy_text.data()),
                                                        policy_text.size()))}};
  for (const auto& [name, body] : {std::pair{"bench-rsa", json{{"kty", "RSA"}, {"key_size", 2048}}},
                                   std::pair{"bench-aes", json{{"kty", "oct"}, {"key_size", 256}}}}) {
    json b = body;
    b["attributes"] = {{"exportable", true}};
    b["release_policy"] = release_policy;
    if (auto r = call(**http, "POST", std::string("/keys/") + name + "/create", admin, b, 200); !r)
      return std::fprintf(stderr, "release-load: %s\n", r.error().message.c_str()), 1;
  }
  auto tok = call(**http, "POST", "/vault/tokens", admin, json{{"name", "release-load"}}, 201);
  if (!tok) {
    // A rerun against the same database: a fresh name.
    tok = call(**http, "POST", "/vault/tokens", admin,
               json{{"name", "release-load-" + std::to_string(std::rand())}}, 201);
    if (!tok) return std::fprintf(stderr, "release-load: %s\n", tok.error().message.c_str()), 1;
  }
  const std::string api_token = (*tok)["token"].get<std::string>();
  if (auto r = call(**http, "PUT", "/vault/access-policies", admin,
                    json{{"identity", "token:" + (*tok)["name"].get<std::string>()}, {"scope", "*"},
                         {"operations", {"release"}}},
                    200);
      !r)
    return std::fprintf(stderr, "release-load: %s\n", r.error().message.c_str()), 1;

  int rc = 0;
  for (const char* name : {"bench-rsa", "bench-aes"}) {
    const std::string body = json{{"target", att->token}, {"enc", "RSA_AES_KEY_WRAP_256"}}.dump();
    tl::loadgen::LoadSpec spec;
    spec.url = endpoint;
    spec.connections = connections;
    spec.total_requests = requests;
    spec.max_seconds = seconds;
    spec.make_request = [&](size_t) {
      tl::loadgen::Request r;
      r.path = std::string("/keys/") + name + "/release";
      r.body = body;
      r.headers["Authorization"] = "Bearer " + api_token;
      return r;
    };
    spec.check = [](const tl::http::Response& r) { return r.status == 200 && r.body.rfind("{\"value\":\"", 0) == 0; };
    auto result = tl::loadgen::run(spec);
    if (!result) return std::fprintf(stderr, "release-load: %s\n", result.error().message.c_str()), 1;
    json out = json::parse(tl::loadgen::to_json(*result));
    out["key"] = name;
    out["connections"] = connections;
    std::printf("%s\n", out.dump().c_str());
    if (result->failed != 0) rc = 1;
  }
  return rc;
}
