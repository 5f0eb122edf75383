// Secret byte strings (seeds, derived keys, shared secrets): cleansed when
// destroyed or overwritten, never printed, and made only with a fixed size so
// no reallocation leaves stray copies behind.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/hex.h"
#include "common/result.h"

namespace tl::crypto {

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(size_t size) : bytes_(size) {}
  explicit SecretBytes(ByteView data) : bytes_(data.begin(), data.end()) {}
  SecretBytes(const SecretBytes& other) : bytes_(other.bytes_) {}
  SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) { other.bytes_.clear(); }
  SecretBytes& operator=(const SecretBytes& other);
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  ~SecretBytes();

  size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  uint8_t* data() { return bytes_.data(); }
  const uint8_t* data() const { return bytes_.data(); }
  ByteView view() const { return bytes_; }

  // Shortens to the first n bytes (n <= size()), cleansing the rest.
  void truncate(size_t n);

  bool operator==(const SecretBytes& other) const;  // constant time in the contents

 private:
  void wipe();
  std::vector<uint8_t> bytes_;
};

// n bytes from OpenSSL's CSPRNG.
Result<SecretBytes> random_secret(size_t n);

}  // namespace tl::crypto
