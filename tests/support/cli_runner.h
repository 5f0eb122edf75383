// Running the real tlaunch binary from tests, and scratch directories.
#pragma once

#include <filesystem>
#include <string>

#include "common/hex.h"

namespace tl::test {

struct TlaunchRun {
  int exit_code = -1;  // -1 when the process did not exit normally
  std::string out;     // stdout
  std::string err;     // stderr
};

// Runs `<build_dir()>/tlaunch ARGS` through /bin/sh; ARGS is shell text, so quote
// paths and values with shell_quote(). stdout and stderr are captured apart.
TlaunchRun run_tlaunch(const std::string& args);

// 'text' for /bin/sh, whatever it contains.
std::string shell_quote(const std::string& text);

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Writes `data` to path()/name and returns that path.
  std::filesystem::path file(const std::string& name, ByteView data) const;

 private:
  std::filesystem::path path_;
};

}  // namespace tl::test
