#include "server/key_routes.h"

#include <algorithm>
#include <cctype>

#include "common/rfc3339.h"
#include "server/key_json.h"
#include "server/problem.h"
#include "server/route_util.h"
#include "token/base64url.h"

namespace tl::server {
namespace {

using nlohmann::json;
using keys::Operation;
using Call = std::function<Result<http::Response>(const Caller&, const http::Request&)>;

constexpr int kMaxListResults = 25;  // Key Vault's maxresults bound

std::string path_param(const http::Request& req, const char* name) {
  auto it = req.path_params.find(name);
  return it == req.path_params.end() ? std::string() : it->second;
}

// The key a route acts on, for the access check ("" for vault-wide routes).
using KeyOf = std::string (*)(const http::Request&);
std::string key_name(const http::Request& req) { return path_param(req, "name"); }
std::string no_key(const http::Request&) { return {}; }

struct Route {
  KeyService& keys_;
  Logger& log_;
  Metrics& metrics_;

  // Authenticates, checks `op` (or admin when op is empty), runs, maps errors
  // to problems, counts and logs.
  http::Handler handler(const char* route, std::optional<Operation> op, KeyOf key_of, Call call) const {
    return [self = *this, route, op, key_of, call = std::move(call)](const http::Request& req) {
      auto& ks = self.keys_;
      auto& log = self.log_;
      auto& metrics = self.metrics_;
      http::Response resp;
      auto caller = ks.authenticate(req);
      if (!caller) {
        resp = problem(caller.error(), "unauthorized");
        if (resp.status == 401) resp.headers["WWW-Authenticate"] = "Bearer";
      } else if (op && op != Operation::release) {
        if (auto st = ks.authorize(*caller, *op, key_of(req)); !st) resp = problem(st.error(), "forbidden");
      } else if (!op && caller->identity != "admin") {
        resp = problem("forbidden", "only tlaunchd's admin token may manage API tokens and access policies");
      }
      if (caller && resp.status < 400) {
        if (auto out = call(*caller, req); out) {
          resp = std::move(*out);
        } else {
          resp = problem(out.error(), "internal-error");
        }
      }
      count_and_log(route, req, resp, log, metrics, caller ? caller->identity : std::string("-"));
      return resp;
    };
  }
};

Status only_params(const http::Request& req, std::initializer_list<const char*> known) {
  for (const auto& [k, _] : req.query) {
    bool ok = k == "api-version";  // Key Vault clients always send it; it selects nothing here
    for (const char* n : known) ok |= (k == n);
    if (!ok) return Error{"unknown query parameter '" + k + "'", "request-malformed"};
  }
  return {};
}

std::string b64(std::string_view s) {
  return token::base64url_encode(ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

json token_info_json(const keys::ApiTokenInfo& t) {
  json j = {{"name", t.name}, {"createdAt", format_rfc3339(t.created_at)}, {"expiresAt", nullptr}};
  if (t.expires_at) j["expiresAt"] = format_rfc3339(*t.expires_at);
  return j;
}

json policy_json(const keys::AccessPolicy& p) {
  json ops = json::array();
  for (auto op : p.operations) ops.push_back(std::string(keys::operation_name(op)));
  return {{"identity", p.identity}, {"scope", p.scope}, {"operations", ops},
          {"createdAt", format_rfc3339(p.created_at)}};
}

}  // namespace

void add_key_routes(http::Router& r, KeyService& ks, Logger& log, Metrics& metrics) {
  const Route rt{ks, log, metrics};
  auto add = [&r, &rt](const char* method, const char* path, std::optional<Operation> op, KeyOf key_of, Call call) {
    r.add(method, path, rt.handler(path, op, key_of, std::move(call)));
  };
  const auto bundle = [&ks](const keys::KeyVersion& k) {
    return json_response(200, key_bundle(k, ks.base_url(), ks.retention_days()));
  };
  const auto audited = [&ks, &log](const Caller& c, const char* op, const keys::KeyVersion& k, std::string detail = {}) {
    if (auto st = ks.audit_change(c, op, k.name, k.version, std::move(detail)); !st)
      log.error("audit entry not written", {{"operation", op}, {"key", k.name}, {"error", st.error().message}});
  };

  add("POST", "/keys/{name}/create", Operation::create, key_name,
      [&ks, bundle, audited](const Caller& c, const http::Request& req) -> Result<http::Response> {
        auto body = parse_body(req);
        if (!body) return body.take_error();
        auto k = parse_create_request(*body);
        if (!k) return k.take_error();
        auto v = ks.vault().create(path_param(req, "name"), *k, ks.now());
        if (!v) return v.take_error();
        audited(c, "create", *v);
        return bundle(*v);
      });
  add("PUT", "/keys/{name}", Operation::import, key_name,
      [&ks, bundle, audited](const Caller& c, const http::Request& req) -> Result<http::Response> {
        auto body = parse_body(req);
        if (!body) return body.take_error();
        auto im = parse_import_request(*body);
        if (!im) return im.take_error();
        auto v = ks.vault().import(path_param(req, "name"), std::move(im->material), im->attributes, ks.now());
        if (!v) return v.take_error();
        audited(c, "import", *v);
        return bundle(*v);
      });
  add("GET", "/keys", Operation::list, no_key, [&ks](const Caller&, const http::Request& req) -> Result<http::Response> {
    if (auto st = only_params(req, {"maxresults", "skiptoken"}); !st) return st.take_error();
    auto max = int_param(req, "maxresults", 1, kMaxListResults);
    if (!max) return max.take_error();
    const size_t limit = max->value_or(kMaxListResults);
    std::string after;
    if (auto it = req.query.find("skiptoken"); it != req.query.end()) {
      auto raw = token::base64url_decode(it->second);
      if (!raw) return Error{"skiptoken: not a token this API returned", "request-malformed"};
      after.assign(raw->begin(), raw->end());
    }
    auto page = ks.vault().list(after, limit + 1);
    if (!page) return page.take_error();
    json value = json::array();
    for (size_t i = 0; i < page->size() && i < limit; ++i)
      value.push_back(key_item((*page)[i], ks.base_url(), false, ks.retention_days()));
    json out = {{"value", std::move(value)}, {"nextLink", nullptr}};
    if (page->size() > limit)
      out["nextLink"] = "/keys?maxresults=" + std::to_string(limit) + "&skiptoken=" + b64((*page)[limit - 1].name);
    return json_response(200, out);
  });
  add("GET", "/keys/{name}", Operation::get, key_name,
      [&ks, bundle](const Caller&, const http::Request& req) -> Result<http::Response> {
        auto v = ks.vault().get(path_param(req, "name"));
        if (!v) return v.take_error();
        return bundle(*v);
      });
  add("GET", "/keys/{name}/versions", Operation::list, key_name,
      [&ks](const Caller&, const http::Request& req) -> Result<http::Response> {
        auto vs = ks.vault().versions(path_param(req, "name"));
        if (!vs) return vs.take_error();
        json value = json::array();
        for (const auto& v : *vs) value.push_back(key_item(v, ks.base_url(), true, ks.retention_days()));
        return json_response(200, {{"value", std::move(value)}, {"nextLink", nullptr}});
      });
  add("GET", "/keys/{name}/{version}", Operation::get, key_name,
      [&ks, bundle](const Caller&, const http::Request& req) -> Result<http::Response> {
        auto v = ks.vault().get(path_param(req, "name"), path_param(req, "version"));
        if (!v) return v.take_error();
        return bundle(*v);
      });
  for (const char* path : {"/keys/{name}", "/keys/{name}/{version}"}) {
    add("PATCH", path, Operation::update, key_name,
        [&ks, bundle, audited](const Caller& c, const http::Request& req) -> Result<http::Response> {
          auto body = parse_body(req);
          if (!body) return body.take_error();
          auto u = parse_update_request(*body);
          if (!u) return u.take_error();
          std::string version = path_param(req, "version");
          if (version.empty()) {
            // The newest version, enabled or not (it may be re-enabled here).
            auto vs = ks.vault().versions(path_param(req, "name"));
            if (!vs) return vs.take_error();
            if (vs->empty()) return Error{"key '" + path_param(req, "name") + "' has no versions", "key-not-found"};
            version = vs->back().version;
            // A policy set on the bare name must reach the version the bare
            // name releases (the newest enabled one); when that is another
            // version, the caller has to say which.
            if (u->release_policy && !vs->back().attributes.enabled)
              return Error{"key '" + path_param(req, "name") + "': the newest version is disabled, so the bare name "
                           "releases an older one; set the policy on an explicit version",
                           "key-conflict"};
          }
          auto v = ks.vault().update(path_param(req, "name"), version, *u, ks.now());
          if (!v) return v.take_error();
          audited(c, u->release_policy ? "set-policy" : "update", *v, body->dump());
          return bundle(*v);
        });
  }
  add("POST", "/keys/{name}/rotate", Operation::rotate, key_name,
      [&ks, bundle, audited](const Caller& c, const http::Request& req) -> Result<http::Response> {
        auto v = ks.vault().rotate(path_param(req, "name"), ks.now());
        if (!v) return v.take_error();
        audited(c, "rotate", *v);
        return bundle(*v);
      });
  add("DELETE", "/keys/{name}", Operation::del, key_name,
      [&ks, audited](const Caller& c, const http::Request& req) -> Result<http::Response> {
        auto d = ks.vault().remove(path_param(req, "name"), ks.now());
        if (!d) return d.take_error();
        audited(c, "delete", d->newest);
        return json_response(200, deleted_bundle(*d, ks.base_url(), ks.retention_days()));
      });
  for (const char* path : {"/keys/{name}/release", "/keys/{name}/{version}/release"}) {
    // The access check is part of the release (its denial is audited with the rest).
    add("POST", path, Operation::release, key_name,
        [&ks](const Caller& c, const http::Request& req) -> Result<http::Response> {
          auto body = parse_body(req);
          if (!body) return with_reason("release-request-invalid", body.take_error());
          std::string clause;
          auto out = ks.release(c, path_param(req, "name"), path_param(req, "version"), *body, &clause);
          if (!out) {
            http::Response p = problem(out.error(), "internal-error");
            if (!clause.empty()) {
              json j = json::parse(p.body, nullptr, false);
              j["clause"] = clause;
              p.body = j.dump();
            }
            return p;
          }
          return json_response(200, *out);
        });
  }

  add("GET", "/deletedkeys", Operation::list, no_key, [&ks](const Caller&, const http::Request&) -> Result<http::Response> {
    auto ds = ks.vault().list_deleted();
    if (!ds) return ds.take_error();
    json value = json::array();
    for (const auto& d : *ds) value.push_back(deleted_bundle(d, ks.base_url(), ks.retention_days()));
    return json_response(200, {{"value", std::move(value)}, {"nextLink", nullptr}});
  });
  add("GET", "/deletedkeys/{name}", Operation::get, key_name,
      [&ks](const Caller&, const http::Request& req) -> Result<http::Response> {
        auto d = ks.vault().get_deleted(path_param(req, "name"));
        if (!d) return d.take_error();
        return json_response(200, deleted_bundle(*d, ks.base_url(), ks.retention_days()));
      });
  add("POST", "/deletedkeys/{name}/recover", Operation::recover, key_name,
      [&ks, bundle, audited](const Caller& c, const http::Request& req) -> Result<http::Response> {
        auto v = ks.vault().recover(path_param(req, "name"), ks.now());
        if (!v) return v.take_error();
        audited(c, "recover", *v);
        return bundle(*v);
      });
  add("DELETE", "/deletedkeys/{name}", Operation::purge, key_name,
      [&ks, &log](const Caller& c, const http::Request& req) -> Result<http::Response> {
        const std::string name = path_param(req, "name");
        // (The key's access policies are removed in the same transaction.)
        if (auto st = ks.vault().purge(name); !st) return st.take_error();
        if (auto st = ks.audit_change(c, "purge", name, ""); !st)
          log.error("audit entry not written", {{"operation", "purge"}, {"key", name}, {"error", st.error().message}});
        return no_content();
      });

  // Administration: tlaunchd's admin token only.
  add("POST", "/vault/tokens", std::nullopt, no_key, [&ks, &log](const Caller& c, const http::Request& req) -> Result<http::Response> {
    auto body = parse_body(req);
    if (!body) return body.take_error();
    for (const auto& [k, _] : body->items())
      if (k != "name" && k != "expiresAt") return Error{"unknown member '" + k + "'", "request-malformed"};
    if (!body->contains("name") || !(*body)["name"].is_string())
      return Error{"name: required, 1-64 of A-Z a-z 0-9 . _ -", "request-malformed"};
    std::optional<int64_t> expires;
    if (auto e = body->find("expiresAt"); e != body->end() && !e->is_null()) {
      auto t = e->is_string() ? parse_rfc3339(e->get<std::string>()) : Result<int64_t>(Error{"not a string"});
      if (!t) return Error{"expiresAt: must be an RFC 3339 time such as 2027-01-01T00:00:00Z", "request-malformed"};
      expires = *t;
    }
    auto issued = ks.access().issue_token((*body)["name"].get<std::string>(), expires, ks.now());
    if (!issued) return issued.take_error();
    if (auto st = ks.audit_change(c, "token-create", "", "", "token:" + issued->info.name); !st)
      log.error("audit entry not written", {{"operation", "token-create"}, {"error", st.error().message}});
    json out = token_info_json(issued->info);
    out["token"] = issued->token;
    return json_response(201, out);
  });
  add("GET", "/vault/tokens", std::nullopt, no_key, [&ks](const Caller&, const http::Request&) -> Result<http::Response> {
    auto ts = ks.access().tokens();
    if (!ts) return ts.take_error();
    json value = json::array();
    for (const auto& t : *ts) value.push_back(token_info_json(t));
    return json_response(200, {{"value", std::move(value)}});
  });
  add("DELETE", "/vault/tokens/{name}", std::nullopt, no_key,
      [&ks, &log](const Caller& c, const http::Request& req) -> Result<http::Response> {
        if (auto st = ks.access().revoke_token(path_param(req, "name")); !st) return st.take_error();
        if (auto st = ks.audit_change(c, "token-revoke", "", "", "token:" + path_param(req, "name")); !st)
          log.error("audit entry not written", {{"operation", "token-revoke"}, {"error", st.error().message}});
        return no_content();
      });
  add("GET", "/vault/access-policies", std::nullopt, no_key, [&ks](const Caller&, const http::Request&) -> Result<http::Response> {
    auto ps = ks.access().policies();
    if (!ps) return ps.take_error();
    json value = json::array();
    for (const auto& p : *ps) value.push_back(policy_json(p));
    return json_response(200, {{"value", std::move(value)}});
  });
  add("PUT", "/vault/access-policies", std::nullopt, no_key,
      [&ks, &log](const Caller& c, const http::Request& req) -> Result<http::Response> {
        auto body = parse_body(req);
        if (!body) return body.take_error();
        for (const auto& [k, _] : body->items())
          if (k != "identity" && k != "scope" && k != "operations")
            return Error{"unknown member '" + k + "'", "request-malformed"};
        for (const char* m : {"identity", "scope"})
          if (!body->contains(m) || !(*body)[m].is_string())
            return Error{std::string(m) + ": required string", "request-malformed"};
        const json& ops = body->value("operations", json());
        if (!ops.is_array()) return Error{"operations: required, an array such as [\"get\",\"release\"]", "request-malformed"};
        std::vector<Operation> list;
        for (size_t i = 0; i < ops.size(); ++i) {
          if (!ops[i].is_string()) return Error{"operations[" + std::to_string(i) + "]: must be a string", "request-malformed"};
          const std::string name = ops[i].get<std::string>();
          if (name == "all") {
            list.assign(std::begin(keys::kAllOperations), std::end(keys::kAllOperations));
            continue;
          }
          auto op = keys::operation_from_name(name);
          if (!op) return Error{"operations[" + std::to_string(i) + "]: unknown operation '" + name + "'", "request-malformed"};
          list.push_back(*op);
        }
        const std::string identity = (*body)["identity"].get<std::string>(), scope = (*body)["scope"].get<std::string>();
        auto p = ks.access().set_policy(identity, scope, std::move(list), ks.now());
        if (!p) return p.take_error();
        if (auto st = ks.audit_change(c, "access-set", scope == "*" ? "" : scope, "", body->dump()); !st)
          log.error("audit entry not written", {{"operation", "access-set"}, {"error", st.error().message}});
        return json_response(200, policy_json(*p));
      });
  add("DELETE", "/vault/access-policies", std::nullopt, no_key,
      [&ks, &log](const Caller& c, const http::Request& req) -> Result<http::Response> {
        if (auto st = only_params(req, {"identity", "scope"}); !st) return st.take_error();
        auto id = req.query.find("identity");
        auto sc = req.query.find("scope");
        if (id == req.query.end() || sc == req.query.end())
          return Error{"identity and scope query parameters are required", "request-malformed"};
        if (auto st = ks.access().remove_policy(id->second, sc->second); !st) return st.take_error();
        if (auto st = ks.audit_change(c, "access-remove", sc->second == "*" ? "" : sc->second, "", id->second); !st)
          log.error("audit entry not written", {{"operation", "access-remove"}, {"error", st.error().message}});
        return no_content();
      });
  add("GET", "/vault/audit", Operation::audit, no_key, [&ks](const Caller&, const http::Request& req) -> Result<http::Response> {
    if (auto st = only_params(req, {"key", "outcome", "after", "limit"}); !st) return st.take_error();
    keys::AuditQuery q;
    if (auto it = req.query.find("key"); it != req.query.end()) {
      const std::string& k = it->second;
      const bool ok = !k.empty() && k.size() <= 127 &&
                      std::all_of(k.begin(), k.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; });
      if (!ok) return Error{"key must be a key name (1-127 of 0-9 a-z A-Z -)", "request-malformed"};
      q.key_name = k;
    }
    if (auto it = req.query.find("outcome"); it != req.query.end()) {
      if (it->second != "allowed" && it->second != "denied")
        return Error{"outcome must be allowed or denied", "request-malformed"};
      q.outcome = it->second;
    }
    auto after = int_param(req, "after", 0, INT64_MAX);
    if (!after) return after.take_error();
    q.after_id = after->value_or(0);
    auto limit = int_param(req, "limit", 1, 1000);
    if (!limit) return limit.take_error();
    q.limit = static_cast<size_t>(limit->value_or(100));
    auto entries = ks.audit().query(q);
    if (!entries) return entries.take_error();
    json value = json::array();
    for (const auto& e : *entries) value.push_back(audit_entry_json(e));
    json out = {{"value", std::move(value)}, {"nextLink", nullptr}};
    if (entries->size() == q.limit) {
      std::string link = "/vault/audit?after=" + std::to_string(entries->back().id) + "&limit=" + std::to_string(q.limit);
      if (!q.key_name.empty()) link += "&key=" + q.key_name;
      if (q.outcome) link += "&outcome=" + *q.outcome;
      out["nextLink"] = link;
    }
    return json_response(200, out);
  });
}

}  // namespace tl::server
