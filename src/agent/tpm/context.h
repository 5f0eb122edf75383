// Private to tl_agent_tpm: one TCTI + ESAPI connection, shared by a Tpm and the
// keys it loads (so a LoadedRuntimeKey may outlive its Tpm safely).
#pragma once

#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace tl::agent::tpm::detail {

class Context {
 public:
  // Connects through the TCTI loader and starts the TPM when it is not started.
  static Result<std::shared_ptr<Context>> open(std::string_view tcti);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  ESYS_CONTEXT* esys() const { return esys_; }
  const std::string& tcti() const { return tcti_; }

 private:
  Context() = default;
  std::string tcti_;
  TSS2_TCTI_CONTEXT* tcti_ctx_ = nullptr;
  ESYS_CONTEXT* esys_ = nullptr;
};

}  // namespace tl::agent::tpm::detail
