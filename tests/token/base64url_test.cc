#include "token/base64url.h"

#include <gtest/gtest.h>

#include <string>

namespace tl::token {
namespace {

std::string dec(std::string_view s) {
  auto r = base64url_decode(s);
  if (!r) return "ERR: " + r.error().message;
  return std::string(r->begin(), r->end());
}

TEST(Base64Url, Rfc4648Vectors) {
  // RFC 4648 §10 test vectors, with the padding removed and the url alphabet.
  const std::pair<std::string, std::string> v[] = {
      {"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"}, {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, enc] : v) {
    EXPECT_EQ(base64url_encode(as_bytes(plain)), enc);
    EXPECT_EQ(dec(enc), plain);
  }
}

TEST(Base64Url, UrlAlphabet) {
  const Bytes b = {0xfb, 0xff, 0xbf};
  EXPECT_EQ(base64url_encode(b), "-_-_");
  auto d = base64url_decode("-_-_");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, b);
}

TEST(Base64Url, RejectsPaddingWithPosition) {
  auto r = base64url_decode("Zg==");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("padding '=' at position 2"), std::string::npos) << r.error().message;
}

TEST(Base64Url, RejectsStandardAlphabetAndWhitespace) {
  auto plus = base64url_decode("ab+c");
  ASSERT_FALSE(plus.ok());
  EXPECT_NE(plus.error().message.find("'+' at position 2"), std::string::npos) << plus.error().message;
  auto slash = base64url_decode("a/bc");
  ASSERT_FALSE(slash.ok());
  EXPECT_NE(slash.error().message.find("position 1"), std::string::npos);
  auto nl = base64url_decode("abc\n");
  ASSERT_FALSE(nl.ok());
  EXPECT_NE(nl.error().message.find("byte 0x0a at position 3"), std::string::npos) << nl.error().message;
}

TEST(Base64Url, RejectsImpossibleLengthAndNonCanonical) {
  EXPECT_FALSE(base64url_decode("abcde").ok());
  auto r = base64url_decode("Zh");  // 'h' leaves non-zero unused bits
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("non-canonical"), std::string::npos);
  EXPECT_FALSE(base64url_decode("Zm9").ok());
  EXPECT_EQ(dec("Zm8"), "fo");
}

TEST(Base64Url, RoundTripsAllLengths) {
  Bytes b;
  for (int i = 0; i < 300; ++i) {
    auto d = base64url_decode(base64url_encode(b));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(*d, b);
    b.push_back(static_cast<uint8_t>(i * 37 + 11));
  }
}

}  // namespace
}  // namespace tl::token
