#include "agent/endpoint_url.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace tl::agent {
namespace {

using ::testing::HasSubstr;

std::string err(std::string_view text) {
  auto r = parse_endpoint_url(text);
  if (r.ok()) return "accepted as " + r->str();
  EXPECT_EQ(r.error().reason, "settings-bad-url");
  return r.error().message;
}

TEST(EndpointUrl, HttpsHostOnly) {
  auto u = parse_endpoint_url("https://sharedeus.eus.attest.azure.net");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "sharedeus.eus.attest.azure.net");
  EXPECT_EQ(u->port, 443);
  EXPECT_FALSE(u->port_explicit);
  EXPECT_EQ(u->path, "/");
  EXPECT_EQ(u->str(), "https://sharedeus.eus.attest.azure.net/");
}

TEST(EndpointUrl, HttpWithPortAndPathNormalizesCase) {
  auto u = parse_endpoint_url("HTTP://LocalHost:8443/attest/v1");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "localhost");
  EXPECT_EQ(u->port, 8443);
  EXPECT_TRUE(u->port_explicit);
  EXPECT_EQ(u->path, "/attest/v1");  // the path keeps its case
  EXPECT_EQ(u->str(), "http://localhost:8443/attest/v1");
}

TEST(EndpointUrl, DefaultHttpPortAndIpLiterals) {
  auto a = parse_endpoint_url("http://127.0.0.1/");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->port, 80);
  auto b = parse_endpoint_url("https://[::1]:9000/x");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->host, "[::1]");
  EXPECT_EQ(b->port, 9000);
  auto c = parse_endpoint_url("https://example.com./p%2Fq");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->path, "/p%2Fq");
}

TEST(EndpointUrl, RefusesWrongScheme) {
  EXPECT_THAT(err("ftp://example.com"), HasSubstr("scheme \"ftp\" is not http or https"));
  EXPECT_THAT(err("example.com"), HasSubstr("not an absolute URL"));
  EXPECT_THAT(err("https:/example.com"), HasSubstr("not an absolute URL"));
  EXPECT_THAT(err("//example.com"), HasSubstr("not an absolute URL"));
  EXPECT_THAT(err(""), HasSubstr("empty"));
}

TEST(EndpointUrl, RefusesBadHosts) {
  EXPECT_THAT(err("https://"), HasSubstr("no host"));
  EXPECT_THAT(err("https:///path"), HasSubstr("no host"));
  EXPECT_THAT(err("https://:443/"), HasSubstr("no host"));
  EXPECT_THAT(err("https://exa_mple.com"), HasSubstr("contains '_'"));
  EXPECT_THAT(err("https://a..b"), HasSubstr("empty label"));
  EXPECT_THAT(err("https://-a.com"), HasSubstr("starts or ends with '-'"));
  EXPECT_THAT(err("https://" + std::string(64, 'a') + ".com"), HasSubstr("longer than 63"));
  EXPECT_THAT(err("https://[::1"), HasSubstr("no closing ']'"));
  EXPECT_THAT(err("https://[]/"), HasSubstr("empty"));
  EXPECT_THAT(err("https://[fe80::1%25eth0]/"), HasSubstr("contains '%'"));
  EXPECT_THAT(err("https://[::1]x/"), HasSubstr("after the IPv6 host"));
}

TEST(EndpointUrl, RefusesBadPorts) {
  EXPECT_THAT(err("https://h:/"), HasSubstr("port after ':' is empty"));
  EXPECT_THAT(err("https://h:0/"), HasSubstr("not in 1..65535"));
  EXPECT_THAT(err("https://h:65536/"), HasSubstr("not in 1..65535"));
  EXPECT_THAT(err("https://h:99999999999/"), HasSubstr("not a number from 1 to 65535"));
  EXPECT_THAT(err("https://h:-1/"), HasSubstr("not a number"));
  EXPECT_THAT(err("https://h:8a/"), HasSubstr("not a number"));
}

TEST(EndpointUrl, RefusesCredentialsQueriesFragments) {
  EXPECT_THAT(err("https://user:pw@h/"), HasSubstr("credentials"));
  EXPECT_THAT(err("https://h/p?x=1"), HasSubstr("query"));
  EXPECT_THAT(err("https://h?x=1"), HasSubstr("query"));
  EXPECT_THAT(err("https://h/#f"), HasSubstr("fragment"));
}

TEST(EndpointUrl, RefusesBadPaths) {
  EXPECT_THAT(err("https://h/a b"), HasSubstr("byte 0x20 at offset 11"));
  EXPECT_THAT(err("https://h/a%zz"), HasSubstr("two hex digits"));
  EXPECT_THAT(err("https://h/a%2"), HasSubstr("two hex digits"));
  EXPECT_THAT(err("https://h/a//b"), HasSubstr("empty segment"));
  EXPECT_THAT(err("https://h/a/../b"), HasSubstr("\"..\" segment"));
  EXPECT_THAT(err("https://h/./b"), HasSubstr("\".\" segment"));
  EXPECT_THAT(err("https://h/a\\b"), HasSubstr("'\\'"));
  EXPECT_THAT(err("https://h/\xc3\xa9"), HasSubstr("byte 0xc3"));
  EXPECT_THAT(err(std::string("https://h/\0", 11)), HasSubstr("byte 0x00"));
}

TEST(EndpointUrl, RefusesOversized) {
  EXPECT_THAT(err("https://h/" + std::string(kMaxEndpointUrlLength, 'a')), HasSubstr("more than 2048"));
}

}  // namespace
}  // namespace tl::agent
