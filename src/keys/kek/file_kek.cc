// The file KEK: 32 random bytes in a file only its owner can read.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>

#include "crypto/key_wrap.h"
#include "keys/kek/kek.h"

namespace tl::keys::kek {
namespace {

constexpr size_t kKeySize = 32;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int close_now() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

// Removes the temporary file unless it was handed over.
class Unlinker {
 public:
  explicit Unlinker(std::string path) : path_(std::move(path)) {}
  Unlinker(const Unlinker&) = delete;
  Unlinker& operator=(const Unlinker&) = delete;
  ~Unlinker() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }

 private:
  std::string path_;
};

Error sys_error(const std::filesystem::path& path, const std::string& step, int err) {
  return Error{"KEK file " + path.string() + ": " + step + ": " + std::strerror(err)};
}

class FileKek final : public Kek {
 public:
  FileKek(std::filesystem::path path, crypto::SecretBytes key) : path_(std::move(path)), key_(std::move(key)) {}

  std::string kind() const override { return "file"; }
  std::string description() const override { return "file " + path_.string(); }

  Result<Bytes> wrap(const crypto::SecretBytes& dek) override {
    auto wrapped = crypto::aes_kwp_wrap(key_, dek.view());
    if (!wrapped) return with_context("wrapping the data key with the KEK in " + description(), wrapped.take_error());
    return wrapped;
  }

  Result<crypto::SecretBytes> unwrap(ByteView wrapped) override {
    auto dek = crypto::aes_kwp_unwrap(key_, wrapped);
    // RFC 5649's integrity check fails alike for another key and for altered
    // bytes; the usual cause is a KEK file replaced or regenerated.
    if (!dek) {
      return Error{"the data key does not unwrap with the KEK in " + description() +
                       " (" + dek.error().message + "): it was wrapped by another KEK; restore the KEK "
                       "the vault was created with",
                   "kek-mismatch"};
    }
    return dek;
  }

 private:
  std::filesystem::path path_;
  crypto::SecretBytes key_;
};

Status write_all(int fd, ByteView data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error{n < 0 ? std::strerror(errno) : "short write"};
    done += static_cast<size_t>(n);
  }
  return {};
}

// Makes a new KEK at `path` without ever exposing a partial file: written and
// fsynced under a temporary name, then link(2)ed into place, which fails
// (EEXIST) rather than replace a KEK another process created meanwhile (the
// caller then reads theirs).
Status create_key_file(const std::filesystem::path& path) {
  static std::atomic<unsigned> counter{0};
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  const std::filesystem::path tmp = dir / ("." + path.filename().string() + ".new." + std::to_string(::getpid()) +
                                           "." + std::to_string(counter++));
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) return sys_error(tmp, "cannot create", errno);
  Unlinker cleanup(tmp.string());

  auto key = crypto::random_secret(kKeySize);
  if (!key) return with_context("KEK file " + path.string(), key.take_error());
  // The umask may only have removed bits; 0600 exactly keeps the owner able to back it up.
  if (::fchmod(fd.get(), 0600) != 0) return sys_error(tmp, "fchmod", errno);
  if (auto st = write_all(fd.get(), key->view()); !st) {
    return Error{"KEK file " + tmp.string() + ": write: " + st.error().message};
  }
  if (::fsync(fd.get()) != 0) return sys_error(tmp, "fsync", errno);
  if (fd.close_now() != 0) return sys_error(tmp, "close", errno);

  if (::link(tmp.c_str(), path.c_str()) != 0 && errno != EEXIST) return sys_error(path, "cannot create", errno);
  // The new name is durable only once the directory is synced.
  Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.get() < 0) return sys_error(dir, "open directory for fsync", errno);
  // The temporary name goes before the sync, so it is not left behind either.
  ::unlink(tmp.c_str());
  if (::fsync(dfd.get()) != 0) return sys_error(dir, "fsync directory", errno);
  return {};
}

Result<crypto::SecretBytes> read_key_file(const std::filesystem::path& path) {
  // O_NOFOLLOW: a symlink is refused rather than followed; O_NONBLOCK: a FIFO
  // planted at the path cannot hang the start.
  Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) {
    const int err = errno;
    if (err == ELOOP) {
      return Error{"KEK file " + path.string() + " is a symbolic link: configure the path of the file itself"};
    }
    if (err == ENOENT) return sys_error(path, "cannot open", err);
    return sys_error(path, "cannot open (check the owner and permissions)", err);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sys_error(path, "fstat", errno);
  if (!S_ISREG(st.st_mode)) {
    return Error{"KEK file " + path.string() + " is not a regular file: it must be a file of 32 bytes"};
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Error{"KEK file " + path.string() + " has mode " + mode +
                 ": group and others must have no access to it; run `chmod 600 " + path.string() +
                 "` (and consider whether the key was exposed)"};
  }
  if (st.st_size != static_cast<off_t>(kKeySize)) {
    return Error{"KEK file " + path.string() + " is " + std::to_string(st.st_size) +
                 " bytes, a KEK file holds exactly 32 random bytes: restore it from its backup "
                 "(a new file would not unwrap the existing keys)"};
  }
  crypto::SecretBytes key(kKeySize);
  size_t done = 0;
  while (done < kKeySize) {
    const ssize_t n = ::read(fd.get(), key.data() + done, kKeySize - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error(path, "read", errno);
    if (n == 0) return Error{"KEK file " + path.string() + " shrank while being read"};
    done += static_cast<size_t>(n);
  }
  uint8_t extra = 0;
  if (::read(fd.get(), &extra, 1) != 0) {
    return Error{"KEK file " + path.string() + " grew while being read: it must hold exactly 32 bytes"};
  }
  return key;
}

}  // namespace

Result<std::unique_ptr<Kek>> open_file_kek(const std::filesystem::path& path, bool create_if_missing) {
  if (path.empty()) return Error{"KEK file: no path configured"};
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(path, ec);
  if (ec) abs = path;

  struct stat st {};
  if (::lstat(abs.c_str(), &st) != 0) {
    const int err = errno;
    if (err != ENOENT) return sys_error(abs, "cannot stat", err);
    if (!create_if_missing) {
      return Error{"KEK file " + abs.string() +
                   " does not exist: restore it from its backup (without it the vault's keys cannot be read)"};
    }
    if (auto created = create_key_file(abs); !created) return created.take_error();
  }
  auto key = read_key_file(abs);
  if (!key) return key.take_error();
  return std::unique_ptr<Kek>(std::make_unique<FileKek>(abs, std::move(*key)));
}

}  // namespace tl::keys::kek
