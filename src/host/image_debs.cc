#include "host/image_debs.h"

#include <algorithm>
#include <fcntl.h>
#include <map>
#include <sstream>
#include <sys/file.h>
#include <unistd.h>

#include "host/image_files.h"
#include "host/process.h"

namespace tl::host {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

Error pkg_error(const std::string& message) { return Error{message, "image-package"}; }

SpawnOptions in_dir(const fs::path& dir) {
  SpawnOptions o;
  o.cwd = dir;
  return o;
}

// Holds an exclusive flock on a file while alive.
class FileLock {
 public:
  explicit FileLock(int fd) : fd_(fd) {}
  FileLock(FileLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  FileLock& operator=(FileLock&&) = delete;
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }

 private:
  int fd_;
};

Result<FileLock> lock_dir(const fs::path& dir) {
  const fs::path p = dir / ".lock";
  int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return pkg_error("cannot open the package cache lock " + p.string());
  FileLock lock(fd);
  if (::flock(fd, LOCK_EX) != 0) return pkg_error("cannot lock the package cache " + p.string());
  return lock;
}

// Package and Version of a .deb.
Result<DebPackage> describe_deb(const fs::path& file) {
  auto out = run_checked({"dpkg-deb", "-f", file.string(), "Package", "Version"}, 60s);
  if (!out) return with_context("reading " + file.string(), out.take_error());
  DebPackage d;
  std::istringstream in(*out);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Package: ", 0) == 0) d.name = line.substr(9);
    if (line.rfind("Version: ", 0) == 0) d.version = line.substr(9);
  }
  if (d.name.empty() || d.version.empty()) return pkg_error(file.string() + ": no Package/Version in its control file");
  auto sha = sha256_file(file);
  if (!sha) return sha.take_error();
  d.sha256 = *sha;
  d.file = file;
  return d;
}

// Orders the four packages (shim, grub, kernel, busybox), each required once.
Result<ImagePackages> pick(const std::vector<DebPackage>& found, const std::string& where) {
  std::map<std::string, std::vector<DebPackage>> by_role;
  for (const DebPackage& d : found) {
    if (d.name == kShimPackage || d.name == kGrubPackage || d.name == kBusyboxPackage) by_role[d.name].push_back(d);
    if (is_kernel_package(d.name)) by_role["kernel"].push_back(d);
  }
  ImagePackages out;
  for (const char* role : {kShimPackage, kGrubPackage, "kernel", kBusyboxPackage}) {
    const auto& v = by_role[role];
    const std::string what = std::string(role) == "kernel" ? "a signed kernel (linux-image-*-amd64)" : role;
    if (v.empty()) return pkg_error("no " + what + " package in " + where);
    if (v.size() > 1) {
      return pkg_error("more than one " + what + " package in " + where + " (" + v[0].file.filename().string() +
                       ", " + v[1].file.filename().string() + "): keep one");
    }
    out.debs.push_back(v[0]);
    if (std::string(role) == "kernel") out.kernel_package = v[0].name;
  }
  return out;
}

}  // namespace

bool is_kernel_package(const std::string& name) {
  const std::string prefix = "linux-image-", suffix = "-amd64";
  if (name.size() <= prefix.size() + suffix.size()) return false;
  if (name.rfind(prefix, 0) != 0 || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
  const std::string version = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  // "6.1.0-56": starts with a digit; the meta package (no version) and -unsigned/-dbg do not match.
  if (version.empty() || !(version[0] >= '0' && version[0] <= '9')) return false;
  for (char c : version) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+')) return false;
  }
  return true;
}

Result<std::string> kernel_from_apt_depends(const std::string& output) {
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    const size_t p = line.find("Depends: ");
    if (p == std::string::npos) continue;
    std::string name = line.substr(p + 9);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\r')) name.pop_back();
    if (is_kernel_package(name)) return name;
  }
  return pkg_error(std::string("apt does not know which kernel ") + kKernelMetaPackage +
                   " depends on (run 'apt-get update'?)");
}

Result<std::vector<AptUri>> parse_print_uris(const std::string& output) {
  std::vector<AptUri> out;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] != '\'') continue;
    std::istringstream words(line);
    std::string url, file, size, hash;
    if (!(words >> url >> file >> size >> hash)) return pkg_error("apt-get --print-uris: cannot read line '" + line + "'");
    if (hash.rfind("SHA256:", 0) != 0 || hash.size() != 7 + 64) {
      return pkg_error("apt-get --print-uris: no SHA256 for " + file);
    }
    if (file.find('/') != std::string::npos || file.empty() || file[0] == '.') {
      return pkg_error("apt-get --print-uris: unexpected file name '" + file + "'");
    }
    out.push_back(AptUri{file, hash.substr(7)});
  }
  return out;
}

Result<ImagePackages> packages_from_dir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return pkg_error("--debs " + dir.string() + ": not a directory");
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file() && e.path().extension() == ".deb") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<DebPackage> found;
  for (const fs::path& f : files) {
    auto d = describe_deb(f);
    if (!d) return d.take_error();
    found.push_back(*d);
  }
  return pick(found, dir.string());
}

Result<ImagePackages> fetch_packages(const fs::path& cache, const Progress& progress) {
  std::error_code ec;
  fs::create_directories(cache, ec);
  if (ec) return pkg_error("cannot create the package cache " + cache.string() + ": " + ec.message());
  auto depends = run_checked({"apt-cache", "depends", kKernelMetaPackage}, 60s);
  if (!depends) return with_context("asking apt for the kernel package", depends.take_error());
  auto kernel = kernel_from_apt_depends(*depends);
  if (!kernel) return kernel.take_error();
  const std::vector<std::string> names = {kShimPackage, kGrubPackage, *kernel, kBusyboxPackage};

  auto lock = lock_dir(cache);
  if (!lock) return lock.take_error();
  std::vector<std::string> uris_argv = {"apt-get", "download", "--print-uris"};
  uris_argv.insert(uris_argv.end(), names.begin(), names.end());
  // apt-get prints nothing for a file already in its working directory: ask
  // from an empty one, so the answer always names all four.
  auto empty = ScratchDir::create(fs::temp_directory_path(), "tlaunch-apt-");
  if (!empty) return empty.take_error();
  auto uris_out = run_checked(uris_argv, 120s, in_dir(empty->path()));
  if (!uris_out) return with_context("asking apt where the packages are (package not found? run 'apt-get update')", uris_out.take_error());
  auto uris = parse_print_uris(*uris_out);
  if (!uris) return uris.take_error();
  if (uris->size() != names.size()) {
    return pkg_error("apt-get download --print-uris named " + std::to_string(uris->size()) + " files for " +
                     std::to_string(names.size()) + " packages");
  }

  std::vector<std::string> missing;
  for (const AptUri& u : *uris) {
    const fs::path f = cache / u.file;
    if (fs::exists(f, ec)) {
      auto sha = sha256_file(f);
      if (sha && *sha == u.sha256) continue;
      fs::remove(f, ec);  // stale or corrupt: fetch again
    }
    missing.push_back(u.file);
  }
  if (!missing.empty()) {
    progress("downloading " + std::to_string(missing.size()) + " package(s) into " + cache.string());
    std::vector<std::string> argv = {"apt-get", "download", "-q"};
    argv.insert(argv.end(), names.begin(), names.end());
    auto dl = run_checked(argv, 30min, in_dir(cache));
    if (!dl) return with_context("downloading packages (no network, or the archive is unreachable?)", dl.take_error());
  } else {
    progress("packages: all 4 in the cache " + cache.string());
  }
  std::vector<DebPackage> found;
  for (const AptUri& u : *uris) {
    auto d = describe_deb(cache / u.file);
    if (!d) return d.take_error();
    if (d->sha256 != u.sha256) {
      return pkg_error(u.file + " in " + cache.string() + " does not match apt's index (SHA-256 " + d->sha256 + ", expected " + u.sha256 + ")");
    }
    found.push_back(*d);
  }
  return pick(found, cache.string());
}

Status extract_packages(const ImagePackages& packages, const fs::path& root, const Progress& progress) {
  for (const DebPackage& d : packages.debs) {
    progress("extracting " + d.name + " " + d.version);
    auto r = run_checked({"dpkg-deb", "-x", d.file.string(), root.string()}, 10min);
    if (!r) return with_context("extracting " + d.file.string(), r.take_error());
  }
  return {};
}

}  // namespace tl::host
