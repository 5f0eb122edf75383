#include "common/hex.h"

#include <gtest/gtest.h>

namespace tl {
namespace {

TEST(Hex, RoundTrips) {
  const Bytes b = {0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(to_hex(b), "0001abff");
  auto back = from_hex("0001ABff");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, b);
}

TEST(Hex, AcceptsPrefix) {
  auto v = from_hex("0x10");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, Bytes{0x10});
}

TEST(Hex, RejectsOddLength) {
  auto v = from_hex("abc");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("odd length 3"), std::string::npos);
}

TEST(Hex, RejectsBadCharacterWithPosition) {
  auto v = from_hex("00zz");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("position 2"), std::string::npos);
}

}  // namespace
}  // namespace tl
