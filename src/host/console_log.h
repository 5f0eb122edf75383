// The guest's serial console as the supervisor sees it: QEMU appends to
// console.log (chardev file, append=on); ConsoleLog hands out what was added
// since the last call and keeps the file bounded, so a chatty or hostile guest
// cannot fill the host's disk.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace tl::host {

// console.log is rotated once it passes this many bytes (docs/host.md).
inline constexpr size_t kConsoleLogCap = size_t{16} << 20;

class ConsoleLog {
 public:
  explicit ConsoleLog(std::filesystem::path path, size_t cap = kConsoleLogCap) : path_(std::move(path)), cap_(cap) {}
  ~ConsoleLog();
  ConsoleLog(const ConsoleLog&) = delete;
  ConsoleLog& operator=(const ConsoleLog&) = delete;

  // What the guest added since the last call (at most 1 MiB a call: the rest
  // comes next time); "" while QEMU has not created the file.
  std::string read_new();

  // When the file is larger than the cap: its content becomes console.log.1
  // (one generation is kept) and console.log starts again from empty; QEMU's
  // next append lands at the new start. Call it right after read_new(): only
  // a guest writing faster than read_new() takes (1 MiB a call) gets lines
  // rotated away unread, and they are still in console.log.1. Returns true
  // when it rotated.
  bool rotate_if_full();

 private:
  std::filesystem::path path_;
  size_t cap_;
  int fd_ = -1;
};

}  // namespace tl::host
