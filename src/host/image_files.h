// File helpers of the image builder: hashing, whole-file read/write, and a
// scratch directory removed with everything in it (atomic replace is
// common/atomic_file.h).
#pragma once

#include <filesystem>
#include <string>

#include "common/hex.h"
#include "common/result.h"

namespace tl::host {

Result<Bytes> read_whole_file(const std::filesystem::path& path);
Status write_whole_file(const std::filesystem::path& path, ByteView data);

std::string sha256_hex(ByteView data);
Result<std::string> sha256_file(const std::filesystem::path& path);

// A fresh directory "<parent>/<prefix>XXXXXX" (mkdtemp); removed recursively on destruction.
class ScratchDir {
 public:
  static Result<ScratchDir> create(const std::filesystem::path& parent, const std::string& prefix);
  ScratchDir(ScratchDir&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  ScratchDir& operator=(ScratchDir&&) = delete;
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  explicit ScratchDir(std::filesystem::path p) : path_(std::move(p)) {}
  std::filesystem::path path_;
};

}  // namespace tl::host
