// A real software TPM (swtpm) for tests, driven with tpm2-tools over its TCP TCTI.
// One instance per test suite: starting swtpm and creating keys dominates the cost.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>

#include "common/hex.h"
#include "common/result.h"

namespace tl::test {

class Swtpm {
 public:
  // Starts swtpm on free ports in a fresh temp dir and waits until it answers.
  // Retries with other ports when swtpm exits (e.g. a port taken meanwhile).
  // initial_state: a swtpm state dir (e.g. made by swtpm_setup) whose files are
  // copied into the fresh one first; empty = a blank TPM.
  static Result<std::unique_ptr<Swtpm>> start(const std::filesystem::path& initial_state = {});
  ~Swtpm();  // stops swtpm (SIGTERM, then SIGKILL) and removes the temp dir
  Swtpm(const Swtpm&) = delete;
  Swtpm& operator=(const Swtpm&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  int port() const { return port_; }
  std::string tcti() const;  // "swtpm:host=127.0.0.1,port=P"

  // Runs a shell command in dir() with TPM2TOOLS_TCTI set, then flushes transient
  // objects (swtpm has no resource manager, so loaded contexts would pile up).
  // The error carries the command's combined output.
  Result<std::string> run(const std::string& command) const;

  Bytes read(const std::string& file) const;
  void write(const std::string& file, ByteView data) const;

 private:
  struct Key {  // only start() can make one; make_unique still works
    explicit Key() = default;
  };

 public:
  explicit Swtpm(Key) {}

 private:
  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace tl::test
