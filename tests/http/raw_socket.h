// A plain TCP connection to 127.0.0.1 for sending bytes no HTTP client would
// (garbage, truncated or oversized headers). Every call is bounded in time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tl::http::test {

class RawSocket {
 public:
  explicit RawSocket(uint16_t port);  // throws when it cannot connect
  ~RawSocket();
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool send_all(std::string_view bytes);  // false when the peer closed
  // Reads until the peer closes or `timeout_ms` passes; returns what came.
  std::string read_until_close(unsigned timeout_ms, bool* closed = nullptr);

 private:
  int fd_ = -1;
};

// A listening socket on 127.0.0.1 that never accepts nor answers: connects
// succeed (the kernel's backlog), every read then waits forever.
class SilentListener {
 public:
  SilentListener();  // throws when it cannot listen
  ~SilentListener();
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

}  // namespace tl::http::test
