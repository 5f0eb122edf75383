#include "swtpm.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

namespace tl::test {

namespace {

// A port the kernel considers free right now, and whether port+1 is free too
// (swtpm's control channel). Racy by nature; start() retries when swtpm exits.
int pick_port_pair() {
  for (int attempt = 0; attempt < 20; ++attempt) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      port = ntohs(a.sin_port);
    }
    ::close(fd);
    if (port <= 0 || port >= 65535) continue;
    int fd2 = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in b{};
    b.sin_family = AF_INET;
    b.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    b.sin_port = htons(static_cast<uint16_t>(port + 1));
    const bool free2 = ::bind(fd2, reinterpret_cast<sockaddr*>(&b), sizeof b) == 0;
    ::close(fd2);
    if (free2) return port;
  }
  return -1;
}

bool can_connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

Result<std::unique_ptr<Swtpm>> Swtpm::start(const std::filesystem::path& initial_state) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "tl-swtpm-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) return Error{"mkdtemp failed"};
  auto s = std::make_unique<Swtpm>(Key{});
  s->dir_ = tmpl;
  std::filesystem::create_directory(s->dir_ / "state");
  if (!initial_state.empty()) {
    std::error_code ec;
    std::filesystem::copy(initial_state, s->dir_ / "state", std::filesystem::copy_options::recursive, ec);
    if (ec) return Error{"cannot copy swtpm state from " + initial_state.string() + ": " + ec.message()};
  }
  std::string last_log;
  for (int attempt = 0; attempt < 5; ++attempt) {
    const int port = pick_port_pair();
    if (port < 0) return Error{"no free TCP port pair for swtpm"};
    const std::string server = "type=tcp,port=" + std::to_string(port);
    const std::string ctrl = "type=tcp,port=" + std::to_string(port + 1);
    const std::string state = "dir=" + (s->dir_ / "state").string();
    const std::string log = (s->dir_ / "swtpm.log").string();
    const pid_t pid = ::fork();
    if (pid < 0) return Error{"fork failed"};
    if (pid == 0) {
      // If the test process dies without cleaning up, take swtpm down with it.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      std::vector<std::string> args = {"swtpm", "socket", "--tpm2", "--tpmstate", state,
                                       "--server", server, "--ctrl", ctrl,
                                       "--flags", "not-need-init,startup-clear"};
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execvp("swtpm", argv.data());
      ::_exit(127);
    }
    s->pid_ = pid;
    s->port_ = port;
    for (int i = 0; i < 100; ++i) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        s->pid_ = -1;  // exited: probably lost the port race; try another pair
        break;
      }
      if (can_connect(port)) return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    last_log = read_all(s->dir_ / "swtpm.log");
    if (s->pid_ > 0) {
      ::kill(s->pid_, SIGKILL);
      ::waitpid(s->pid_, nullptr, 0);
      s->pid_ = -1;
    }
  }
  return Error{"swtpm did not start: " + last_log};
}

Swtpm::~Swtpm() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    bool gone = false;
    for (int i = 0; i < 100 && !gone; ++i) {
      gone = ::waitpid(pid_, &status, WNOHANG) == pid_;
      if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!gone) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
  }
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

std::string Swtpm::tcti() const { return "swtpm:host=127.0.0.1,port=" + std::to_string(port_); }

Result<std::string> Swtpm::run(const std::string& command) const {
  const std::string full = "cd '" + dir_.string() + "' && export TPM2TOOLS_TCTI='" + tcti() +
                           "' && { " + command + " ; } 2>&1; rc=$?; tpm2_flushcontext -t >/dev/null 2>&1; exit $rc";
  FILE* p = ::popen(full.c_str(), "r");
  if (p == nullptr) return Error{"popen failed for: " + command};
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int status = ::pclose(p);
  if (status != 0) return Error{"command failed (" + std::to_string(status) + "): " + command + "\n" + out};
  return out;
}

Bytes Swtpm::read(const std::string& file) const {
  std::string s = read_all(dir_ / file);
  return Bytes(s.begin(), s.end());
}

void Swtpm::write(const std::string& file, ByteView data) const {
  std::ofstream out(dir_ / file, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

}  // namespace tl::test
