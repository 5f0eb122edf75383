// Bounds-checked cursor over an untrusted byte buffer. Every read either
// succeeds or leaves an error naming the field and the absolute byte offset;
// nothing reads past the end and no length from the input is trusted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/hex.h"
#include "common/result.h"

namespace tl {

class ByteReader {
 public:
  // base_offset: where `data` starts in the enclosing buffer, so errors can
  // report offsets relative to the whole file.
  explicit ByteReader(ByteView data, size_t base_offset = 0)
      : data_(data), base_(base_offset) {}

  size_t offset() const { return base_ + pos_; }  // absolute
  size_t position() const { return pos_; }        // relative to data
  size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return pos_ == data_.size(); }

  // Each returns an Error "FIELD at offset 0xNN: need N bytes, M left".
  Result<uint8_t> u8(std::string_view field);
  Result<uint16_t> u16_le(std::string_view field);
  Result<uint32_t> u32_le(std::string_view field);
  Result<uint64_t> u64_le(std::string_view field);
  Result<uint16_t> u16_be(std::string_view field);
  Result<uint32_t> u32_be(std::string_view field);
  Result<uint64_t> u64_be(std::string_view field);
  Result<ByteView> bytes(size_t n, std::string_view field);
  Status skip(size_t n, std::string_view field);

  // A reader over the next n bytes (consumed from this one).
  Result<ByteReader> sub(size_t n, std::string_view field);

  // "FIELD at offset 0x1a40: MESSAGE" at the current offset.
  Error error(std::string_view field, std::string_view message) const;
  Error error_at(size_t absolute_offset, std::string_view field,
                 std::string_view message) const;

 private:
  Status need(size_t n, std::string_view field) const;
  ByteView data_;
  size_t base_;
  size_t pos_ = 0;
};

std::string hex_offset(size_t offset);  // "0x1a40"

}  // namespace tl
