#include "agent/kernel_release.h"

#include <sys/utsname.h>

#include <cerrno>
#include <cstring>

namespace tl::agent {

Result<std::string> checked_kernel_release(std::string_view release) {
  if (release.empty()) return Error{"uname: empty kernel release", "kernel-release"};
  // The evidence format's limit; uname's own is 64 bytes.
  if (release.size() > 256) return Error{"uname: kernel release longer than 256 bytes", "kernel-release"};
  for (size_t i = 0; i < release.size(); ++i) {
    const auto c = static_cast<unsigned char>(release[i]);
    if (c < 0x20 || c > 0x7e) {
      return Error{"uname: kernel release byte " + std::to_string(i) + " is not printable ASCII", "kernel-release"};
    }
  }
  return std::string(release);
}

Result<std::string> kernel_release() {
  struct utsname u {};
  if (::uname(&u) != 0) return Error{std::string("uname: ") + std::strerror(errno), "kernel-release"};
  // utsname fields are NUL-terminated within their arrays.
  return checked_kernel_release(std::string_view(u.release, ::strnlen(u.release, sizeof u.release)));
}

}  // namespace tl::agent
