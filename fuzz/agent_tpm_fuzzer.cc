// libFuzzer target for the parsers of tl_agent_tpm that take bytes from outside
// the TPM: the stored runtime key blob and EK certificate NV contents. The first
// byte picks the parser. (Built by fuzz/agent_tpm.cmake.)
#include <cstddef>
#include <cstdint>
#include <algorithm>

#include "agent/tpm/agent_tpm.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const tl::ByteView in(data + 1, size - 1);
  if (data[0] % 2 == 0) {
    auto blob = tl::agent::tpm::decode_runtime_key_blob(in);
    if (blob) {
      // Whatever decodes must encode back to the same bytes.
      const tl::Bytes again = tl::agent::tpm::encode_runtime_key_blob(*blob);
      if (tl::ByteView(again).size() != in.size() || !std::equal(again.begin(), again.end(), in.begin())) __builtin_trap();
    }
  } else {
    auto cert = tl::agent::tpm::ek_certificate_from_nv(in);
    if (cert && cert->size() > in.size()) __builtin_trap();
  }
  return 0;
}
