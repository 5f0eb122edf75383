// Fetch URLs: what may be fetched, and how it is split for the client.
#include "keys/authorities/key_fetch.h"

#include <gtest/gtest.h>

namespace tl::keys::detail {
namespace {

std::string split(const std::string& url) {
  auto r = parse_fetch_url(url);
  return r ? r->origin + " " + r->path_and_query : "refused: " + r.error().message;
}

TEST(FetchUrl, Splits) {
  EXPECT_EQ(split("https://a.example"), "https://a.example /");
  EXPECT_EQ(split("https://a.example/certs"), "https://a.example /certs");
  EXPECT_EQ(split("https://a.example:8443/t/1/certs?v=2"), "https://a.example:8443 /t/1/certs?v=2");
  EXPECT_EQ(split("https://a.example?v=2"), "https://a.example /?v=2");
  EXPECT_EQ(split("http://127.0.0.1:9000/certs"), "http://127.0.0.1:9000 /certs");
  EXPECT_EQ(split("http://localhost/certs"), "http://localhost /certs");
  EXPECT_EQ(split("http://[::1]:9000/certs"), "http://[::1]:9000 /certs");
  EXPECT_EQ(split("http://127.8.9.10/certs"), "http://127.8.9.10 /certs");
}

TEST(FetchUrl, Refuses) {
  for (const char* url :
       {"", "a.example/certs", "ftp://a.example/k", "file:///etc/passwd", "https://", "https:///certs",
        "http://a.example/certs", "http://10.0.0.1/certs", "http://127.0.0.1.evil.example/x", "http://127.1/x",
        "http://0x7f000001/x", "https://user@a.example/certs", "https://a.example/c#frag", "https://a.example/c d",
        "https://a.example/c\n", "https://a.example:99999/", "https://a.example:x/", "https://[::1/certs"}) {
    EXPECT_EQ(split(url).substr(0, 9), "refused: ") << url << " → " << split(url);
  }
}

TEST(FetchUrl, Discovery) {
  EXPECT_EQ(discovery_url("https://a.example"), "https://a.example/.well-known/openid-configuration");
  EXPECT_EQ(discovery_url("https://a.example/"), "https://a.example/.well-known/openid-configuration");
  EXPECT_EQ(discovery_url("https://a.example/tenant"), "https://a.example/tenant/.well-known/openid-configuration");
}

}  // namespace
}  // namespace tl::keys::detail
