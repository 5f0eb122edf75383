#include "server/fleet_routes.h"

#include <charconv>
#include <set>

#include "common/rfc3339.h"
#include "crypto/digest.h"
#include "fleet/fleet.h"
#include "policy/baseline.h"
#include "server/admin_token.h"
#include "server/problem.h"
#include "server/route_util.h"
#include "token/base64url.h"

namespace tl::server {
namespace {

using nlohmann::json;
using Call = std::function<Result<http::Response>(const http::Request&)>;

// Authenticates, runs, maps errors to problems, counts and logs.
http::Handler admin(const char* route, Service& service, Logger& log, Metrics& metrics, Call call) {
  return [route, &service, &log, &metrics, call = std::move(call)](const http::Request& req) {
    http::Response resp;
    if (auto auth = check_admin(service.repository(), req); !auth) {
      resp = problem(auth.error(), "unauthorized");
      if (resp.status == 401) resp.headers["WWW-Authenticate"] = "Bearer";
    } else if (auto out = call(req); out) {
      resp = std::move(*out);
    } else {
      resp = problem(out.error(), "internal-error");
    }
    count_and_log(route, req, resp, log, metrics);
    return resp;
  };
}

// Query parameters: only `known` ones, each as the route documents it.
Status only_params(const http::Request& req, std::initializer_list<const char*> known) {
  for (const auto& [k, _] : req.query) {
    bool ok = false;
    for (const char* n : known) ok |= (k == n);
    if (!ok) return Error{"unknown query parameter '" + k + "'", "request-malformed"};
  }
  return {};
}

std::optional<std::string> param(const http::Request& req, const char* name) {
  auto it = req.query.find(name);
  if (it == req.query.end()) return std::nullopt;
  return it->second;
}

Result<std::optional<fleet::Health>> health_param(const http::Request& req) {
  auto v = param(req, "healthStatus");
  if (!v) return std::optional<fleet::Health>{};
  for (auto h : {fleet::Health::healthy, fleet::Health::unhealthy, fleet::Health::unknown, fleet::Health::pending})
    if (*v == fleet::health_name(h)) return std::optional<fleet::Health>{h};
  return Error{"healthStatus must be Healthy, Unhealthy, Unknown or Pending, not '" + *v + "'", "request-malformed"};
}

template <typename T, typename C, typename F>
json page_json(const fleet::Page<T, C>& page, F&& item) {
  json v = json::array();
  for (const auto& x : page.items) v.push_back(item(x));
  json out = {{"value", std::move(v)}, {"nextAfter", nullptr}};
  if (page.next_after) out["nextAfter"] = *page.next_after;
  return out;
}

// POST /baselines/{group}
Result<http::Response> create_baseline(Service& s, const http::Request& req) {
  auto body = parse_body(req);
  if (!body) return body.take_error();
  for (const auto& [k, _] : body->items())
    if (k != "eventLog" && k != "variant" && k != "pcrs" && k != "mode")
      return Error{"unknown member '" + k + "'", "baseline-invalid"};
  if (!body->contains("eventLog") || !(*body)["eventLog"].is_string())
    return Error{"eventLog: required, the binary event log as base64url without padding", "baseline-invalid"};
  auto log = token::base64url_decode((*body)["eventLog"].get<std::string>());
  if (!log) return Error{"eventLog: " + log.error().message, "baseline-invalid"};
  std::vector<uint32_t> pcrs = policy::default_baseline_pcrs();
  if (body->contains("pcrs")) {
    const json& p = (*body)["pcrs"];
    if (!p.is_array() || p.empty() || p.size() > 24) return Error{"pcrs: must be a non-empty array of PCR indices", "baseline-invalid"};
    std::set<uint32_t> seen;
    for (size_t i = 0; i < p.size(); ++i) {
      if (!p[i].is_number_unsigned() || p[i].get<uint64_t>() > 23)
        return Error{"pcrs[" + std::to_string(i) + "]: must be a PCR index 0..23", "baseline-invalid"};
      seen.insert(p[i].get<uint32_t>());
    }
    pcrs.assign(seen.begin(), seen.end());
  }
  auto mode = fleet::Fleet::BaselineMode::new_version;
  if (body->contains("mode")) {
    const json& m = (*body)["mode"];
    if (m == "add-variant") mode = fleet::Fleet::BaselineMode::add_variant;
    else if (m != "new-version") return Error{"mode: must be \"new-version\" or \"add-variant\"", "baseline-invalid"};
  }
  std::string name;
  if (body->contains("variant")) {
    if (!(*body)["variant"].is_string()) return Error{"variant: must be a string", "baseline-invalid"};
    name = (*body)["variant"].get<std::string>();
  } else {
    // Deterministic default: the same log gets the same name.
    auto h = crypto::digest(crypto::HashAlg::sha256, *log);
    if (!h) return h.take_error();
    name = "eventlog-" + to_hex(*h).substr(0, 12);
  }
  const int64_t now = s.now();
  auto variant = policy::variant_from_eventlog(*log, name, pcrs, now);
  // One reason for a bad request here (eventlog-malformed is a 403 rejection of evidence).
  if (!variant) return Error{"eventLog: " + variant.error().message, "baseline-invalid"};
  auto b = s.fleet().add_baseline(req.path_params.at("group"), std::move(*variant), pcrs, mode, now);
  if (!b) return b.take_error();
  return json_response(201, policy::to_json(*b));
}

}  // namespace

void add_fleet_routes(http::Router& r, Service& s, Logger& log, Metrics& m) {
  auto add = [&](const char* method, const char* route, Call call) {
    r.add(method, route, admin(route, s, log, m, std::move(call)));
  };

  add("POST", "/vms", [&s](const http::Request& req) -> Result<http::Response> {
    auto body = parse_body(req);
    if (!body) return body.take_error();
    auto spec = fleet::vm_spec_from_json(*body);
    if (!spec) return spec.take_error();
    auto vm = s.fleet().register_vm(*spec, s.now());
    if (!vm) return vm.take_error();
    return json_response(201, fleet::to_json(*vm));
  });
  add("GET", "/vms", [&s](const http::Request& req) -> Result<http::Response> {
    if (auto st = only_params(req, {"group", "healthStatus", "limit", "after"}); !st) return st.take_error();
    fleet::VmQuery q;
    q.group = param(req, "group");
    q.after = param(req, "after");
    auto h = health_param(req);
    if (!h) return h.take_error();
    q.health = *h;
    auto limit = int_param(req, "limit", 1, 1000);
    if (!limit) return limit.take_error();
    if (*limit) q.limit = static_cast<int>(**limit);
    auto page = s.fleet().list(q, s.now());
    if (!page) return page.take_error();
    return json_response(200, page_json(*page, [](const fleet::Vm& v) { return fleet::to_json(v); }));
  });
  add("GET", "/vms/{name}", [&s](const http::Request& req) -> Result<http::Response> {
    const std::string& name = req.path_params.at("name");
    auto vm = s.fleet().find(name, s.now());
    if (!vm) return vm.take_error();
    if (!*vm) return Error{"no registered VM named '" + name + "'", "vm-not-found"};
    return json_response(200, fleet::to_json(**vm));
  });
  add("PATCH", "/vms/{name}", [&s](const http::Request& req) -> Result<http::Response> {
    auto body = parse_body(req);
    if (!body) return body.take_error();
    auto patch = fleet::vm_patch_from_json(*body);
    if (!patch) return patch.take_error();
    auto vm = s.fleet().update_vm(req.path_params.at("name"), *patch, s.now());
    if (!vm) return vm.take_error();
    return json_response(200, fleet::to_json(*vm));
  });
  // The VM's host reports that it did not boot or crashed (docs/fleet.md "Host events").
  add("POST", "/vms/{name}/host-events", [&s](const http::Request& req) -> Result<http::Response> {
    auto body = parse_body(req);
    if (!body) return body.take_error();
    auto event = fleet::host_event_from_json(*body);
    if (!event) return event.take_error();
    auto vm = s.fleet().record_host_event(req.path_params.at("name"), *event, s.now());
    if (!vm) return vm.take_error();
    return json_response(200, fleet::to_json(*vm));
  });
  add("DELETE", "/vms/{name}", [&s](const http::Request& req) -> Result<http::Response> {
    if (auto st = s.fleet().remove(req.path_params.at("name"), s.now()); !st) return st.take_error();
    return no_content();
  });

  add("POST", "/baselines/{group}", [&s](const http::Request& req) { return create_baseline(s, req); });
  add("GET", "/baselines", [&s](const http::Request&) -> Result<http::Response> {
    auto list = s.fleet().baselines();
    if (!list) return list.take_error();
    json v = json::array();
    for (const auto& b : *list)
      v.push_back({{"group", b.group}, {"version", b.version}, {"variants", b.variants}, {"learning", b.learning},
                   {"createdAt", b.version ? json(format_rfc3339(b.created_at)) : json(nullptr)}});
    return json_response(200, json{{"value", v}});
  });
  add("GET", "/baselines/{group}", [&s](const http::Request& req) -> Result<http::Response> {
    if (auto st = only_params(req, {"version"}); !st) return st.take_error();
    auto version = int_param(req, "version", 1, 1'000'000'000);
    if (!version) return version.take_error();
    const std::string& group = req.path_params.at("group");
    std::optional<int> v;
    if (*version) v = static_cast<int>(**version);
    auto b = s.fleet().baseline(group, v);
    if (!b) return b.take_error();
    if (!*b)
      return Error{"group '" + group + "' has no baseline" + (v ? " version " + std::to_string(*v) : std::string()),
                   "baseline-not-found"};
    return json_response(200, policy::to_json(**b));
  });
  add("PUT", "/baselines/{group}/learning", [&s](const http::Request& req) -> Result<http::Response> {
    auto body = parse_body(req);
    if (!body) return body.take_error();
    if (body->size() != 1 || !body->contains("enabled") || !(*body)["enabled"].is_boolean())
      return Error{"body must be {\"enabled\": true|false}", "request-malformed"};
    const std::string& group = req.path_params.at("group");
    const bool on = (*body)["enabled"].get<bool>();
    if (auto st = s.fleet().set_learning(group, on); !st) return st.take_error();
    return json_response(200, json{{"group", group}, {"learning", on}});
  });

  add("GET", "/alerts", [&s](const http::Request& req) -> Result<http::Response> {
    if (auto st = only_params(req, {"state", "vm", "severity", "limit", "after"}); !st) return st.take_error();
    fleet::AlertQuery q;
    if (auto st = param(req, "state")) {
      if (*st == "open") q.state = fleet::AlertQuery::State::open;
      else if (*st == "resolved") q.state = fleet::AlertQuery::State::resolved;
      else if (*st == "all") q.state = fleet::AlertQuery::State::all;
      else return Error{"state must be open, resolved or all, not '" + *st + "'", "alert-query-invalid"};
    }
    q.vm = param(req, "vm");
    q.severity = param(req, "severity");
    if (q.severity && *q.severity != "High" && *q.severity != "Medium" && *q.severity != "Low")
      return Error{"severity must be High, Medium or Low, not '" + *q.severity + "'", "alert-query-invalid"};
    auto limit = int_param(req, "limit", 1, 1000);
    if (!limit) return limit.take_error();
    if (*limit) q.limit = static_cast<int>(**limit);
    auto after = int_param(req, "after", 0, INT64_MAX);
    if (!after) return after.take_error();
    q.after = *after;
    auto page = s.fleet().alerts(q);
    if (!page) return page.take_error();
    return json_response(200, page_json(*page, [](const fleet::Alert& a) { return fleet::to_json(a); }));
  });
  add("POST", "/suppressions", [&s](const http::Request& req) -> Result<http::Response> {
    auto body = parse_body(req);
    if (!body) return body.take_error();
    auto rule = fleet::suppression_from_json(*body);
    if (!rule) return rule.take_error();
    auto added = s.fleet().add_suppression(*rule, s.now());
    if (!added) return added.take_error();
    return json_response(201, fleet::to_json(*added));
  });
  add("GET", "/suppressions", [&s](const http::Request&) -> Result<http::Response> {
    auto list = s.fleet().suppressions();
    if (!list) return list.take_error();
    json v = json::array();
    for (const auto& x : *list) v.push_back(fleet::to_json(x));
    return json_response(200, json{{"value", v}});
  });
  add("DELETE", "/suppressions/{id}", [&s](const http::Request& req) -> Result<http::Response> {
    const std::string& text = req.path_params.at("id");
    int64_t id = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc{} || p != text.data() + text.size() || id <= 0)
      return Error{"no suppression rule '" + text + "'", "suppression-not-found"};
    if (auto st = s.fleet().remove_suppression(id); !st) return st.take_error();
    return no_content();
  });
  add("GET", "/recommendations", [&s](const http::Request& req) -> Result<http::Response> {
    if (auto st = only_params(req, {"kind", "limit", "after"}); !st) return st.take_error();
    auto limit = int_param(req, "limit", 1, 1000);
    if (!limit) return limit.take_error();
    auto page = s.fleet().recommendations(param(req, "kind"), *limit ? static_cast<int>(**limit) : 100,
                                          param(req, "after"));
    if (!page) return page.take_error();
    return json_response(200, page_json(*page, [](const fleet::Fleet::RecommendationRow& row) {
                           return json{{"vm", row.vm}, {"kind", row.rec.kind}, {"severity", "Low"},
                                       {"title", row.rec.title}, {"detail", row.rec.detail}};
                         }));
  });
  add("GET", "/fleet/summary", [&s](const http::Request&) -> Result<http::Response> {
    auto sum = s.fleet().summary();
    if (!sum) return sum.take_error();
    return json_response(200, fleet::to_json(*sum));
  });
}

}  // namespace tl::server
