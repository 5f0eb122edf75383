#include "host/console_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <system_error>

namespace tl::host {

ConsoleLog::~ConsoleLog() {
  if (fd_ >= 0) ::close(fd_);
}

std::string ConsoleLog::read_new() {
  if (fd_ < 0) fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return {};
  std::string out;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (size_t{1} << 20)) break;
  }
  return out;
}

bool ConsoleLog::rotate_if_full() {
  struct stat st {};
  if (fd_ < 0 || ::fstat(fd_, &st) != 0 || static_cast<size_t>(st.st_size) <= cap_) return false;
  std::error_code ec;
  const std::filesystem::path old = path_.string() + ".1";
  std::filesystem::copy_file(path_, old, std::filesystem::copy_options::overwrite_existing, ec);
  // Truncated in place, not replaced: QEMU keeps writing to the file it opened.
  if (::truncate(path_.c_str(), 0) != 0) return false;
  ::lseek(fd_, 0, SEEK_SET);
  return true;
}

}  // namespace tl::host
