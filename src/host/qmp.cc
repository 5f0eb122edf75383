#include "host/qmp.h"

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "host/vtpm.h"

namespace tl::host {

namespace {

using Clock = std::chrono::steady_clock;

class Connection {
 public:
  explicit Connection(int fd) : fd_(fd) {}
  ~Connection() {
    if (fd_ >= 0) ::close(fd_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The next JSON message (QMP sends one per line).
  Result<nlohmann::json> next(Clock::time_point deadline) {
    for (;;) {
      const auto nl = buf_.find('\n');
      if (nl != std::string::npos) {
        auto j = nlohmann::json::parse(buf_.substr(0, nl), nullptr, false);
        buf_.erase(0, nl + 1);
        if (j.is_discarded()) return Error{"QEMU sent a QMP message that is not JSON", "qmp-failed"};
        return j;
      }
      if (buf_.size() > (1 << 20)) return Error{"QMP message over 1 MiB", "qmp-failed"};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return Error{"QEMU did not answer on QMP in time", "qmp-timeout"};
      pollfd p{fd_, POLLIN, 0};
      const int pr = ::poll(&p, 1, static_cast<int>(left));
      if (pr < 0 && errno == EINTR) continue;
      if (pr <= 0) continue;
      char b[4096];
      const ssize_t n = ::recv(fd_, b, sizeof b, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Error{"QEMU closed the QMP connection", "qmp-closed"};
      buf_.append(b, static_cast<size_t>(n));
    }
  }

  // The answer to the command just sent: events in between are skipped.
  Result<nlohmann::json> answer(Clock::time_point deadline) {
    for (;;) {
      auto m = next(deadline);
      if (!m) return m;
      if (m->contains("event")) continue;
      if (m->contains("error")) {
        const auto& e = (*m)["error"];
        std::string desc = e.contains("desc") && e["desc"].is_string() ? e["desc"].get<std::string>() : "error";
        return Error{"QEMU refused the QMP command: " + desc, "qmp-failed"};
      }
      if (m->contains("return")) return (*m)["return"];
    }
  }

  Status send(const std::string& text) {
    if (::send(fd_, text.data(), text.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(text.size())) {
      return Error{std::string("cannot send to QEMU's QMP socket: ") + std::strerror(errno), "qmp-closed"};
    }
    return {};
  }

 private:
  int fd_;
  std::string buf_;
};

}  // namespace

Result<std::string> qmp_execute(const std::filesystem::path& socket, const std::string& command,
                                std::chrono::milliseconds timeout) {
  if (auto s = check_socket_path(socket); !s) return s.take_error();
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{std::string("socket: ") + std::strerror(errno), "host-internal"};
  Connection c(fd);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Error{"QEMU's QMP socket " + socket.string() + " does not answer: " + std::strerror(errno), "qmp-closed"};
  }
  const auto deadline = Clock::now() + timeout;
  auto greeting = c.next(deadline);
  if (!greeting) return greeting.take_error();
  if (!greeting->contains("QMP")) return Error{"no QMP greeting on " + socket.string(), "qmp-failed"};
  if (auto s = c.send("{\"execute\":\"qmp_capabilities\"}\n"); !s) return s.take_error();
  if (auto a = c.answer(deadline); !a) return a.take_error();
  if (auto s = c.send(nlohmann::json{{"execute", command}}.dump() + "\n"); !s) return s.take_error();
  auto a = c.answer(deadline);
  if (!a) return a.take_error();
  return a->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tl::host
