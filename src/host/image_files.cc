#include "host/image_files.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <unistd.h>

#include "crypto/digest.h"

namespace tl::host {
namespace fs = std::filesystem;

namespace {
Error io_error(const std::string& what, const fs::path& p) {
  return Error{what + " " + p.string() + ": " + std::strerror(errno), "image-io"};
}

// Closes a descriptor on every path out.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};
}  // namespace

Result<Bytes> read_whole_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error("cannot read", path);
  Bytes data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return io_error("error reading", path);
  return data;
}

Status write_whole_file(const fs::path& path, ByteView data) {
  Fd f{::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
  if (f.fd < 0) return io_error("cannot create", path);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(f.fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("cannot write", path);
    done += static_cast<size_t>(n);
  }
  if (::fsync(f.fd) != 0) return io_error("cannot sync", path);
  return {};
}

std::string sha256_hex(ByteView data) {
  auto d = crypto::digest(crypto::HashAlg::sha256, data);
  return d ? to_hex(*d) : std::string();
}

Result<std::string> sha256_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error("cannot read", path);
  auto h = crypto::Hasher::create(crypto::HashAlg::sha256);
  if (!h) return h.take_error();
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h->update(ByteView(reinterpret_cast<const uint8_t*>(buf.data()), static_cast<size_t>(in.gcount())));
  }
  if (in.bad()) return io_error("error reading", path);
  return to_hex(h->finish());
}

Result<ScratchDir> ScratchDir::create(const fs::path& parent, const std::string& prefix) {
  std::string tmpl = (parent / (prefix + "XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) return io_error("cannot create a scratch directory in", parent);
  return ScratchDir(fs::path(tmpl));
}

ScratchDir::~ScratchDir() {
  if (path_.empty()) return;
  std::error_code ec;  // best effort: a leftover scratch dir is not worth failing for
  fs::remove_all(path_, ec);
}

}  // namespace tl::host
