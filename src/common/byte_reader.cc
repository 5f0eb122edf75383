#include "common/byte_reader.h"

#include <cstdio>

namespace tl {

std::string hex_offset(size_t offset) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%zx", offset);
  return buf;
}

Error ByteReader::error_at(size_t absolute_offset, std::string_view field,
                           std::string_view message) const {
  std::string m(field);
  m += " at offset ";
  m += hex_offset(absolute_offset);
  m += ": ";
  m += message;
  return Error{std::move(m)};
}

Error ByteReader::error(std::string_view field, std::string_view message) const {
  return error_at(offset(), field, message);
}

Status ByteReader::need(size_t n, std::string_view field) const {
  if (n > remaining()) {
    return error(field, "need " + std::to_string(n) + " bytes, only " +
                            std::to_string(remaining()) + " left");
  }
  return {};
}

Result<uint8_t> ByteReader::u8(std::string_view field) {
  if (auto s = need(1, field); !s) return s.take_error();
  return data_[pos_++];
}

namespace {
template <class T>
T load_le(const uint8_t* p) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<T>(p[i]) << (8 * i));
  return v;
}
template <class T>
T load_be(const uint8_t* p) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>((v << 8) | p[i]);
  return v;
}
}  // namespace

#define TL_READ_INT(NAME, TYPE, LOADER)                              \
  Result<TYPE> ByteReader::NAME(std::string_view field) {            \
    if (auto s = need(sizeof(TYPE), field); !s) return s.take_error(); \
    TYPE v = LOADER<TYPE>(data_.data() + pos_);                      \
    pos_ += sizeof(TYPE);                                            \
    return v;                                                        \
  }
TL_READ_INT(u16_le, uint16_t, load_le)
TL_READ_INT(u32_le, uint32_t, load_le)
TL_READ_INT(u64_le, uint64_t, load_le)
TL_READ_INT(u16_be, uint16_t, load_be)
TL_READ_INT(u32_be, uint32_t, load_be)
TL_READ_INT(u64_be, uint64_t, load_be)
#undef TL_READ_INT

Result<ByteView> ByteReader::bytes(size_t n, std::string_view field) {
  if (auto s = need(n, field); !s) return s.take_error();
  ByteView v = data_.subspan(pos_, n);
  pos_ += n;
  return v;
}

Status ByteReader::skip(size_t n, std::string_view field) {
  if (auto s = need(n, field); !s) return s;
  pos_ += n;
  return {};
}

Result<ByteReader> ByteReader::sub(size_t n, std::string_view field) {
  const size_t start = offset();
  auto b = bytes(n, field);
  if (!b) return b.take_error();
  return ByteReader(*b, start);
}

}  // namespace tl
