// Child processes for the host layer: QEMU, swtpm, swtpm_setup and the image
// tools (apt-get, dpkg-deb, mkfs.vfat, mtools). argv vectors only, never a
// shell, so names and paths are never re-parsed.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "common/result.h"

namespace tl::host {

struct SpawnOptions {
  std::optional<std::filesystem::path> stdout_file;  // appended; else /dev/null
  std::optional<std::filesystem::path> stderr_file;  // appended; else /dev/null
  std::optional<std::filesystem::path> cwd;
  std::vector<std::string> extra_env;  // "NAME=value", added to (or replacing in) the environment
  bool new_session = false;            // setsid(): survives the caller's terminal / process group
};

// A started child. Not copyable; the destructor does NOT kill or reap: a
// supervisor decides what happens to its children. pid() < 0 after wait() reaped it.
class Child {
 public:
  Child() = default;
  explicit Child(pid_t pid) : pid_(pid) {}
  Child(Child&& o) noexcept : pid_(o.pid_) { o.pid_ = -1; }
  Child& operator=(Child&& o) noexcept { pid_ = o.pid_; o.pid_ = -1; return *this; }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  pid_t pid() const { return pid_; }
  bool running();  // not yet exited (reaps it if it has: then pid() < 0 and status() is set)
  // Exit code (0..255) or 128+signal once reaped.
  std::optional<int> status() const { return status_; }
  // Waits up to `timeout` (nullopt: forever); returns the status or nullopt on timeout.
  std::optional<int> wait(std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  void signal(int sig) const;  // no-op when reaped

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// Starts argv[0] (searched in PATH when it has no '/'). An executable that
// cannot be found or started is an error naming it ("host-tool-missing").
Result<Child> spawn(const std::vector<std::string>& argv, const SpawnOptions& options = {});

struct RunResult {
  int status = 0;       // exit code, or 128+signal
  std::string output;   // stdout and stderr interleaved, clipped to 1 MiB
};

// Runs to completion in its own process group; after `timeout` the whole group
// is killed with SIGKILL (error "host-tool-timeout"), so nothing it started lingers.
// A non-zero exit is NOT an error here; callers decide (see run_checked).
Result<RunResult> run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                      const SpawnOptions& options = {});

// run(), and a non-zero exit becomes an error "<tool> failed (exit N): <last lines of output>"
// with reason "host-tool-failed".
Result<std::string> run_checked(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                                const SpawnOptions& options = {});

// Full path of an executable found in PATH, or nullopt.
std::optional<std::filesystem::path> find_in_path(const std::string& name);

}  // namespace tl::host
