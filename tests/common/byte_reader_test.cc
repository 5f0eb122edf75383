#include "common/byte_reader.h"

#include <gtest/gtest.h>

namespace tl {
namespace {

TEST(ByteReader, ReadsBothEndiannesses) {
  const Bytes b = {0x01, 0x02, 0x03, 0x04, 0x01, 0x02, 0x03, 0x04};
  ByteReader r(b);
  EXPECT_EQ(*r.u32_le("a"), 0x04030201u);
  EXPECT_EQ(*r.u32_be("b"), 0x01020304u);
  EXPECT_TRUE(r.empty());
}

TEST(ByteReader, ShortReadNamesFieldAndAbsoluteOffset) {
  const Bytes b = {0x01, 0x02, 0x03};
  ByteReader r(b, 0x100);
  ASSERT_TRUE(r.u16_le("x").ok());
  auto v = r.u32_le("digestCount");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().message, "digestCount at offset 0x102: need 4 bytes, only 1 left");
  EXPECT_EQ(r.offset(), 0x102u);  // a failed read consumes nothing
}

TEST(ByteReader, HugeLengthIsRejectedWithoutAllocation) {
  const Bytes b(16, 0);
  ByteReader r(b);
  auto v = r.bytes(SIZE_MAX, "eventSize");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("eventSize"), std::string::npos);
}

TEST(ByteReader, SubReaderKeepsAbsoluteOffsets) {
  const Bytes b(10, 0);
  ByteReader r(b, 0x40);
  ASSERT_TRUE(r.skip(4, "skip").ok());
  auto sub = r.sub(4, "inner");
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(sub->offset(), 0x44u);
  auto bad = sub->u64_le("field");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("0x44"), std::string::npos);
  EXPECT_EQ(r.remaining(), 2u);
}

}  // namespace
}  // namespace tl
