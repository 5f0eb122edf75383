// Router matching and request-target decoding, without a server.
#include <gtest/gtest.h>

#include "http/http.h"
#include "http/target.h"

namespace tl::http {
namespace {

Request make(std::string method, std::string path) {
  Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  return r;
}

Handler answer(std::string text) {
  return [text](const Request& req) {
    std::string params;
    for (const auto& [k, v] : req.path_params) params += k + "=" + v + ";";
    return Response{200, {}, text + "|" + params};
  };
}

TEST(Router, ExactAndParamSegments) {
  Router router;
  router.add("GET", "/health", answer("health"));
  router.add("POST", "/keys/{name}/{version}/release", answer("release"));
  auto req = make("GET", "/health");
  EXPECT_EQ(router.dispatch(req).body, "health|");
  req = make("POST", "/keys/db-key/7/release");
  EXPECT_EQ(router.dispatch(req).body, "release|name=db-key;version=7;");
  EXPECT_EQ(req.path_params.at("name"), "db-key");
}

TEST(Router, MoreLiteralSegmentsWin) {
  Router router;
  router.add("GET", "/vms/{id}", answer("by-id"));
  router.add("GET", "/vms/summary", answer("summary"));
  auto req = make("GET", "/vms/summary");
  EXPECT_EQ(router.dispatch(req).body, "summary|");
  req = make("GET", "/vms/vm-1");
  EXPECT_EQ(router.dispatch(req).body, "by-id|id=vm-1;");
}

TEST(Router, ParamNeverMatchesEmptyOrSeveralSegments) {
  Router router;
  router.add("GET", "/vms/{id}", answer("by-id"));
  for (const char* path : {"/vms/", "/vms", "/vms/a/b", "/vms//", "", "vms/a"}) {
    auto req = make("GET", path);
    EXPECT_EQ(router.dispatch(req).status, 404) << path;
  }
}

TEST(Router, UnknownPathIs404ProblemJson) {
  Router router;
  router.add("GET", "/a", answer("a"));
  auto req = make("GET", "/b");
  const Response r = router.dispatch(req);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.headers.at("content-type"), "application/problem+json");
  EXPECT_NE(r.body.find("\"status\":404"), std::string::npos);
}

TEST(Router, WrongMethodIs405WithAllow) {
  Router router;
  router.add("GET", "/keys/{name}", answer("get"));
  router.add("DELETE", "/keys/{name}", answer("delete"));
  router.add("POST", "/keys", answer("create"));
  auto req = make("PUT", "/keys/k1");
  const Response r = router.dispatch(req);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers.at("Allow"), "DELETE, GET");
}

TEST(Router, FallbackShapesErrorsAndStillGetsAllow) {
  Router router;
  router.add("GET", "/a", answer("a"));
  router.set_fallback([](int status, const Request& req) {
    return Response{status, {{"Content-Type", "text/plain"}}, "custom " + req.path};
  });
  auto req = make("GET", "/zzz");
  EXPECT_EQ(router.dispatch(req).body, "custom /zzz");
  req = make("POST", "/a");
  const Response r = router.dispatch(req);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.body, "custom /a");
  EXPECT_EQ(r.headers.at("allow"), "GET");
}

TEST(Router, PatternMustBeAbsolute) {
  Router router;
  EXPECT_THROW(router.add("GET", "relative", answer("x")), std::invalid_argument);
}

TEST(Target, DecodesPathAndQuery) {
  auto t = parse_target("/keys/my%20key?version=3&name=a+b%26c&flag");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->path, "/keys/my key");
  EXPECT_EQ(t->query.at("version"), "3");
  EXPECT_EQ(t->query.at("name"), "a b&c");
  EXPECT_EQ(t->query.at("flag"), "");
  EXPECT_EQ(t->query.size(), 3u);
}

TEST(Target, PlusStaysInPath) {
  auto t = parse_target("/a+b");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->path, "/a+b");
}

TEST(Target, EmptyQueryPiecesIgnored) {
  auto t = parse_target("/x?&&a=1&");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->query.size(), 1u);
}

TEST(Target, HostileInputsRefusedWithOffsets) {
  struct Case {
    const char* target;
    const char* message_part;
  };
  for (const Case& c : {Case{"", "origin-form"}, Case{"http://evil/x", "origin-form"}, Case{"*", "origin-form"},
                        Case{"/a%2Fb", "encoded '/' in path at offset 2"}, Case{"/a%2fb", "encoded '/'"},
                        Case{"/a%zz", "bad percent-encoding at offset 2"}, Case{"/a%4", "bad percent-encoding"},
                        Case{"/a%", "bad percent-encoding"}, Case{"/a%00b", "encoded NUL"},
                        Case{"/x?a=%", "query value at offset 5"}, Case{"/x?a=1&a=2", "repeats a name"},
                        Case{"/x?%00=1", "encoded NUL"}, Case{"/a b", "raw byte 0x20 in request target at offset 2"},
                        Case{"/a\tb", "raw byte 0x09"}, Case{"/a\x7f", "raw byte 0x7f"},
                        Case{"/caf\xc3\xa9", "raw byte 0xc3 in request target at offset 4"}}) {
    auto t = parse_target(c.target);
    ASSERT_FALSE(t.ok()) << c.target;
    EXPECT_NE(t.error().message.find(c.message_part), std::string::npos)
        << c.target << " → " << t.error().message;
  }
}

TEST(Target, RawNulRefused) {
  auto t = parse_target(std::string("/m.\0x", 5));
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("raw byte 0x00 in request target at offset 3"), std::string::npos)
      << t.error().message;
}

TEST(Target, PercentDecodeEdges) {
  EXPECT_EQ(*percent_decode("%41%62c", false), "Abc");
  EXPECT_EQ(*percent_decode("a+b", true), "a b");
  EXPECT_FALSE(percent_decode("%G1", false).ok());
  EXPECT_FALSE(percent_decode("%1", false).ok());
}

TEST(Headers, CaseInsensitive) {
  Request r;
  r.headers["Content-Type"] = "application/json";
  ASSERT_NE(r.header("content-TYPE"), nullptr);
  EXPECT_EQ(*r.header("CONTENT-type"), "application/json");
  EXPECT_EQ(r.header("content-length"), nullptr);
}

}  // namespace
}  // namespace tl::http
