#include "server/admin_token.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "crypto/digest.h"
#include "crypto/secret_bytes.h"
#include "token/base64url.h"

namespace tl::server {
namespace {

// Writes via a temporary file and rename, so a reader never sees half a token
// and the file is never world-readable, even for a moment.
Status write_secret_file(const std::string& file, const std::string& text) {
  const std::string tmp = file + ".tmp";
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Error{"admin token file " + tmp + ": " + std::strerror(errno)};
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Error{"admin token file " + tmp + ": " + std::strerror(e)};
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return Error{"admin token file " + tmp + ": cannot flush"};
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return Error{"admin token file " + file + ": " + std::strerror(e)};
  }
  return {};
}

Status make_token(Repository& repo, const std::string& file, int64_t now) {
  auto secret = crypto::random_secret(32);
  if (!secret) return secret.take_error();
  const std::string token = token::base64url_encode(secret->view());
  auto hash = crypto::digest(crypto::HashAlg::sha256, ByteView(reinterpret_cast<const uint8_t*>(token.data()), token.size()));
  if (!hash) return hash.take_error();
  // The file first: a token stored but never written would lock the operator out.
  if (auto st = write_secret_file(file, token + "\n"); !st) return st;
  return repo.replace_api_token(*hash, "admin", kAdminRole, now);
}

}  // namespace

Result<bool> ensure_admin_token(Repository& repo, const std::string& file, int64_t now) {
  auto has = repo.has_api_token(kAdminRole);
  if (!has) return has.take_error();
  if (*has) return false;
  if (auto st = make_token(repo, file, now); !st) return st.take_error();
  return true;
}

Status reset_admin_token(Repository& repo, const std::string& file, int64_t now) {
  return make_token(repo, file, now);
}

Status check_admin(Repository& repo, const http::Request& req) {
  const std::string* h = req.header("Authorization");
  if (!h) return Error{"this route needs 'Authorization: Bearer <admin token>' (tlaunchd wrote the token to its "
                       "admin token file at first start)", "unauthorized"};
  constexpr std::string_view kScheme = "Bearer ";
  if (h->size() <= kScheme.size() || h->compare(0, kScheme.size(), kScheme) != 0)
    return Error{"Authorization must be 'Bearer <admin token>'", "unauthorized"};
  const std::string_view token = std::string_view(*h).substr(kScheme.size());
  if (token.size() > 512) return Error{"the bearer token is not a valid admin token", "unauthorized"};
  auto hash = crypto::digest(crypto::HashAlg::sha256, ByteView(reinterpret_cast<const uint8_t*>(token.data()), token.size()));
  if (!hash) return Error{hash.error().message, "internal-error"};
  auto known = repo.api_token_known(*hash, kAdminRole);
  if (!known) return Error{known.error().message, "unavailable"};
  if (!*known) return Error{"the bearer token is not a valid admin token", "unauthorized"};
  return {};
}

}  // namespace tl::server
