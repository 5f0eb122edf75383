#include "host/vtpm.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "host/process.h"
#include "host/vm_config.h"

namespace tl::host {

namespace {

constexpr auto kSetupTimeout = std::chrono::seconds(60);

// Closes a descriptor on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string file_tail(const std::filesystem::path& p, size_t n) {
  auto t = read_text_file(p, 64 << 20);
  if (!t) return {};
  std::string s = t->size() > n ? t->substr(t->size() - n) : *t;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

bool VtpmCa::exists() const {
  std::error_code ec;
  return std::filesystem::is_regular_file(root_cert(), ec) && std::filesystem::is_regular_file(issuer_cert(), ec);
}

Status VtpmCa::write_config() const {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error{"cannot create " + dir.string() + ": " + ec.message(), "host-io"};
  ::chmod(dir.c_str(), 0700);  // the CA's signing keys live here
  const std::string d = dir.string();
  const std::string localca = "statedir = " + d + "\nsigningkey = " + d + "/signkey.pem\nissuercert = " + d +
                              "/issuercert.pem\ncertserial = " + d + "/certserial\n";
  const std::string options =
      "--platform-manufacturer trustlaunch\n--platform-version 1\n--platform-model QEMU\n";
  const auto tool = find_in_path("swtpm_localca");
  if (!tool) {
    return Error{"swtpm_localca not found in PATH: install swtpm-tools (apt-get install swtpm-tools)",
                 "host-tool-missing"};
  }
  const std::string setup = "create_certs_tool = " + tool->string() + "\ncreate_certs_tool_config = " +
                            localca_conf().string() + "\ncreate_certs_tool_options = " + localca_options().string() +
                            "\nactive_pcr_banks = sha256\n";
  for (auto [file, text] : {std::pair{localca_conf(), localca}, std::pair{localca_options(), options},
                            std::pair{setup_conf(), setup}}) {
    if (auto s = write_file_atomic(file, text, 0600); !s) return s;
  }
  return {};
}

Status VtpmCa::ensure() const {
  if (auto s = write_config(); !s) return s;
  if (exists()) return {};
  const std::filesystem::path scratch = dir / "scratch-tpm";
  std::error_code ec;
  std::filesystem::remove_all(scratch, ec);
  std::filesystem::create_directories(scratch / "state", ec);
  if (ec) return Error{"cannot create " + scratch.string() + ": " + ec.message(), "host-io"};
  Status s = write_tpm_key(scratch / "key");
  if (s) s = provision_vtpm(*this, scratch / "state", scratch / "key", dir / "swtpm_setup.log");
  std::filesystem::remove_all(scratch, ec);
  if (!s) return s;
  if (!exists()) return Error{"swtpm_setup ran but made no CA certificates in " + dir.string(), "vtpm-ca-failed"};
  return {};
}

Status write_tpm_key(const std::filesystem::path& file) {
  unsigned char key[32];
  size_t got = 0;
  while (got < sizeof key) {
    const ssize_t n = getrandom(key + got, sizeof key - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  static const char* hex = "0123456789abcdef";
  std::string text;
  for (unsigned char b : key) {
    text.push_back(hex[b >> 4]);
    text.push_back(hex[b & 15]);
  }
  explicit_bzero(key, sizeof key);
  auto s = write_file_atomic(file, text, 0600);
  explicit_bzero(text.data(), text.size());
  return s;
}

Status provision_vtpm(const VtpmCa& ca, const std::filesystem::path& state_dir, const std::filesystem::path& key_file,
                      const std::filesystem::path& log_file, const std::filesystem::path& ek_cert_dir) {
  if (auto s = ca.write_config(); !s) return s;
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) return Error{"cannot create " + state_dir.string() + ": " + ec.message(), "host-io"};
  std::vector<std::string> argv = {"swtpm_setup", "--tpm2", "--tpmstate", state_dir.string(), "--create-ek-cert",
                                   "--create-platform-cert", "--lock-nvram", "--overwrite", "--config",
                                   ca.setup_conf().string(), "--keyfile", key_file.string(), "--cipher",
                                   "aes-256-cbc", "--logfile", log_file.string()};
  if (!ek_cert_dir.empty()) {
    std::filesystem::create_directories(ek_cert_dir, ec);
    argv.insert(argv.end(), {"--write-ek-cert-files", ek_cert_dir.string()});
  }
  // swtpm_setup reads XDG_CONFIG_HOME for defaults; our --config wins, and an
  // empty HOME-based lookup is not wanted either.
  auto r = run(argv, kSetupTimeout);
  if (!r) return with_context("cannot provision the vTPM in " + state_dir.string(), r.take_error());
  if (r->status != 0) {
    return Error{"swtpm_setup failed (exit " + std::to_string(r->status) + ") for " + state_dir.string() + ": " +
                     file_tail(log_file, 600),
                 "vtpm-setup-failed"};
  }
  return {};
}

std::vector<std::string> swtpm_argv(const std::filesystem::path& state_dir, const std::filesystem::path& key_file,
                                    const std::filesystem::path& ctrl_socket, const std::filesystem::path& log_file) {
  return {"swtpm", "socket", "--tpm2", "--tpmstate", "dir=" + state_dir.string(), "--ctrl",
          "type=unixio,path=" + ctrl_socket.string(), "--key",
          "file=" + key_file.string() + ",format=hex,mode=aes-256-cbc", "--log",
          "file=" + log_file.string() + ",level=2"};
}

Status probe_swtpm(const std::filesystem::path& ctrl_socket, std::chrono::milliseconds timeout) {
  if (auto s = check_socket_path(ctrl_socket); !s) return s;
  Fd fd{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (fd.fd < 0) return Error{std::string("socket: ") + std::strerror(errno), "host-internal"};
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, ctrl_socket.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Error{"swtpm does not answer on " + ctrl_socket.string() + ": " + std::strerror(errno), "vtpm-not-running"};
  }
  // CMD_GET_CAPABILITY (1), big-endian; the answer is a 4-byte result code
  // then the capability bits.
  const unsigned char cmd[4] = {0, 0, 0, 1};
  if (::send(fd.fd, cmd, sizeof cmd, MSG_NOSIGNAL) != 4) {
    return Error{"swtpm closed " + ctrl_socket.string() + " before answering", "vtpm-not-running"};
  }
  pollfd p{fd.fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
    return Error{"swtpm did not answer on " + ctrl_socket.string() + " within " + std::to_string(timeout.count()) + " ms",
                 "vtpm-not-running"};
  }
  unsigned char answer[16];
  const ssize_t n = ::recv(fd.fd, answer, sizeof answer, 0);
  if (n < 4) return Error{"swtpm gave no answer on " + ctrl_socket.string(), "vtpm-not-running"};
  return {};
}

Status check_socket_path(const std::filesystem::path& p) {
  if (p.string().size() >= sizeof(sockaddr_un{}.sun_path)) {
    return Error{"socket path " + p.string() + " is longer than 107 bytes: use a shorter --host-dir", "host-path-too-long"};
  }
  return {};
}

}  // namespace tl::host
