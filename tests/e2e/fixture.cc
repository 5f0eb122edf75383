#include "fixture.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "eventlog/parsed_log.h"
#include "support/cli_runner.h"
#include "support/test_support.h"

namespace tl::test {
namespace fs = std::filesystem;

Result<std::string> sh(const std::string& command) {
  std::string out;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) return Error{"popen failed: " + command};
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int rc = ::pclose(p);
  if (rc != 0) return Error{"'" + command + "' failed (" + std::to_string(rc) + "): " + out};
  return out;
}

Result<std::unique_ptr<VtpmCa>> VtpmCa::create(const fs::path& dir) {
  auto ca = std::make_unique<VtpmCa>();
  ca->dir_ = dir;
  fs::create_directories(dir / "ca");
  std::ofstream(dir / "localca.conf") << "statedir = " << (dir / "ca").string() << "\nsigningkey = "
                                      << (dir / "ca/signkey.pem").string() << "\nissuercert = "
                                      << (dir / "ca/issuercert.pem").string() << "\ncertserial = "
                                      << (dir / "ca/certserial").string() << "\n";
  // The CA is created lazily by the first provisioning.
  const fs::path probe = dir / "probe-state";
  if (auto st = ca->provision(probe); !st) return st.take_error();
  fs::remove_all(probe);
  return ca;
}

Status VtpmCa::provision(const fs::path& state, const std::string& banks) const {
  fs::create_directories(state);
  const fs::path conf = state.parent_path() / (state.filename().string() + "-setup.conf");
  std::ofstream(conf) << "create_certs_tool = /usr/bin/swtpm_localca\n"
                      << "create_certs_tool_config = " << (dir_ / "localca.conf").string()
                      << "\ncreate_certs_tool_options = /etc/swtpm-localca.options\n"
                      << "active_pcr_banks = " << banks << "\n";
  auto r = sh("swtpm_setup --tpm2 --tpmstate " + shell_quote(state.string()) +
              " --create-ek-cert --config " + shell_quote(conf.string()));
  if (!r) return r.take_error();
  return {};
}

fs::path boot_log_path() { return shared_dir() / "vectors/ovmf-secureboot/eventlog_sb_debian_chain.bin"; }

Result<std::unique_ptr<Swtpm>> start_vm_tpm(const VtpmCa& ca, const fs::path& state_dir, const fs::path& log,
                                            const std::string& banks) {
  if (auto st = ca.provision(state_dir, banks); !st) return st.take_error();
  auto tpm = Swtpm::start(state_dir);
  if (!tpm) return tpm.take_error();
  auto parsed = eventlog::ParsedLog::parse(read_file(log));
  if (!parsed) return parsed.take_error();
  // One tpm2_pcrextend per event, in log order, in one shell.
  std::string cmd = "true";
  for (const auto& e : parsed->events()) {
    if (e.type == 0x00000003) continue;  // EV_NO_ACTION: never extended
    ByteView d = e.digest(crypto::HashAlg::sha256);
    if (d.empty()) continue;
    cmd += " && tpm2_pcrextend " + std::to_string(e.pcr) + ":sha256=" + to_hex(d);
  }
  if (auto r = (*tpm)->run(cmd); !r) return r.take_error();
  return tpm;
}

Result<std::unique_ptr<Tlaunchd>> Tlaunchd::start(const fs::path& dir, const std::vector<std::string>& args) {
  auto t = std::make_unique<Tlaunchd>(Key{});
  fs::create_directories(dir);
  t->log_ = dir / "tlaunchd.log";
  std::vector<std::string> argv = {(build_dir() / "tlaunchd").string(), "serve", "--port", "0",
                                   "--db", (dir / "tlaunchd.db").string()};
  for (const auto& a : args) {
    argv.push_back(a);
    if (a == "--tls-cert") t->scheme_ = "https";
  }
  // A restart in the same directory: the old log must not be read as the new one's.
  std::error_code ec;
  fs::remove(t->log_, ec);
  const pid_t pid = ::fork();
  if (pid < 0) return Error{"fork failed"};
  if (pid == 0) {
    FILE* f = std::fopen(t->log_.c_str(), "w");
    if (f) ::dup2(::fileno(f), 2);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    ::execv(cargv[0], cargv.data());
    _exit(127);
  }
  t->pid_ = pid;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      t->pid_ = -1;
      return Error{"tlaunchd exited at start: " + t->log_text()};
    }
    std::istringstream lines(t->log_text());
    for (std::string line; std::getline(lines, line);) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.value("msg", "") == "listening") {
        t->port_ = j.value("port", 0);
        return t;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Error{"tlaunchd did not log 'listening' within 20 s: " + t->log_text()};
}

Tlaunchd::~Tlaunchd() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
}

std::string Tlaunchd::log_text() const {
  std::ifstream in(log_);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Result<TlsFiles> make_tls_files(const fs::path& dir) {
  fs::create_directories(dir);
  TlsFiles f{dir / "ca.pem", dir / "server.pem", dir / "server.key"};
  const std::string d = shell_quote(dir.string());
  auto r = sh("cd " + d +
              " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem"
              " -days 2 -subj /CN=tl-e2e-ca -addext basicConstraints=critical,CA:TRUE"
              " -addext keyUsage=critical,keyCertSign"
              " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr"
              " -subj /CN=127.0.0.1"
              " && printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > ext.cnf"
              " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2"
              " -extfile ext.cnf -out server.pem");
  if (!r) return r.take_error();
  return f;
}

}  // namespace tl::test
