// The openssl command line as an independent implementation for the key tests:
// a private temp folder, commands run inside it, files read back.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/hex.h"
#include "support/test_support.h"

namespace tl::crypto::test_cli {

class OpensslDir {
 public:
  OpensslDir() {
    char tmpl[] = "/tmp/tl-keytest-XXXXXX";
    if (mkdtemp(tmpl) != nullptr) dir_ = tmpl;
  }
  ~OpensslDir() {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  OpensslDir(const OpensslDir&) = delete;
  OpensslDir& operator=(const OpensslDir&) = delete;

  bool ok() const { return !dir_.empty(); }
  const std::filesystem::path& path() const { return dir_; }

  // Runs `cmd` in the folder (output discarded); the exit status, 0 on success.
  int sh(const std::string& cmd) const {
    return std::system(("cd '" + dir_.string() + "' && { " + cmd + " ; } >/dev/null 2>&1").c_str());
  }
  Bytes bytes(const std::string& name) const { return test::read_file(dir_ / name); }
  std::string text(const std::string& name) const { return test::read_text(dir_ / name); }
  void write(const std::string& name, ByteView data) const {
    std::ofstream(dir_ / name, std::ios::binary)
        .write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  }

 private:
  std::filesystem::path dir_;
};

}  // namespace tl::crypto::test_cli
