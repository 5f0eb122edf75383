// The candidate HTTP servers compared in docs/http-server.md, each serving
// POST /echo with the same workload (echo_workload.h). Bench-only code.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"

namespace tl::bench {

struct CandidateConfig {
  unsigned threads = 2;
  unsigned work_us = 0;
  std::string cert;  // PEM chain; HTTPS when set
  std::string key;   // PEM private key
};

class CandidateServer {
 public:
  virtual ~CandidateServer() = default;
  virtual uint16_t port() const = 0;
  virtual void stop() = 0;
};

Result<std::unique_ptr<CandidateServer>> start_tl_http(const CandidateConfig& config);
Result<std::unique_ptr<CandidateServer>> start_cpp_httplib(const CandidateConfig& config);
Result<std::unique_ptr<CandidateServer>> start_civetweb(const CandidateConfig& config);

inline Result<std::unique_ptr<CandidateServer>> start_candidate(const std::string& lib, const CandidateConfig& c) {
  if (lib == "tl") return start_tl_http(c);
#ifdef TL_HAVE_OTHER_CANDIDATES
  if (lib == "httplib") return start_cpp_httplib(c);
  if (lib == "civetweb") return start_civetweb(c);
  return Error{"unknown --lib " + lib + " (tl, httplib, civetweb)"};
#else
  return Error{"--lib " + lib + ": this build has only tl (install libcpp-httplib-dev and libcivetweb-dev)"};
#endif
}

}  // namespace tl::bench
