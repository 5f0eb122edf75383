#include "host/image_esp.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

#include "host/process.h"

namespace tl::host {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {
constexpr int64_t kFatEpoch = 315532800;  // 1980-01-01T00:00:00Z

Error esp_error(const std::string& m) { return Error{"building the ESP: " + m, "image-esp"}; }
}  // namespace

Status make_esp(const fs::path& disk, const std::vector<EspFile>& files, int64_t epoch, uint64_t size_bytes) {
  if (epoch < kFatEpoch) return esp_error("timestamp " + std::to_string(epoch) + " is before 1980, which FAT cannot store");
  std::error_code ec;
  fs::remove(disk, ec);
  {
    // A sparse file of the full size; mkfs.vfat formats all of it.
    const int fd = ::open(disk.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return esp_error("cannot create " + disk.string() + ": " + std::strerror(errno));
    const int rc = ::ftruncate(fd, static_cast<off_t>(size_bytes));
    ::close(fd);
    if (rc != 0) return esp_error("cannot size " + disk.string() + ": " + std::strerror(errno));
  }
  auto mk = run_checked({"mkfs.vfat", "--invariant", "-F", "32", "-i", kEspVolumeId, "-n", kEspLabel, disk.string()}, 120s);
  if (!mk) return with_context("building the ESP", mk.take_error());

  // mtools stamps new directories and files with SOURCE_DATE_EPOCH, and FAT
  // stores local time: both fixed here so the bytes do not depend on the host.
  SpawnOptions env;
  env.extra_env = {"SOURCE_DATE_EPOCH=" + std::to_string(epoch), "TZ=UTC"};
  std::set<std::string> dirs;
  for (const EspFile& f : files) {
    if (f.path.size() < 2 || f.path[0] != '/' || f.path.find("..") != std::string::npos) {
      return esp_error("bad path '" + f.path + "'");
    }
    for (size_t p = f.path.find('/', 1); p != std::string::npos; p = f.path.find('/', p + 1)) {
      dirs.insert(f.path.substr(0, p));
    }
  }
  for (const std::string& d : dirs) {  // sorted: parents first
    auto r = run_checked({"mmd", "-i", disk.string(), "::" + d}, 60s, env);
    if (!r) return with_context("building the ESP", r.take_error());
  }
  for (const EspFile& f : files) {
    const struct timespec times[2] = {{static_cast<time_t>(epoch), 0}, {static_cast<time_t>(epoch), 0}};
    if (::utimensat(AT_FDCWD, f.source.c_str(), times, 0) != 0) {
      return esp_error("cannot set the time of " + f.source.string() + ": " + std::strerror(errno));
    }
    // -m keeps the (fixed) modification time of the source.
    auto r = run_checked({"mcopy", "-m", "-i", disk.string(), f.source.string(), "::" + f.path}, 300s, env);
    if (!r) return with_context("copying " + f.path + " onto the ESP (too large for it?)", r.take_error());
  }
  return {};
}

}  // namespace tl::host
